/**
 * The sandbox's shared blob storage (what S3 is behind ECR and Docker Hub). The Docker Hub
 * stand-in publishes into it; the ECR side marks a blob imported into a repository only after it
 * has streamed the blob from upstream and checked its digest, then serves it from here.
 */
import type { BlobRecipe } from './content.js';

export class BlobStore {
  private readonly blobs = new Map<string, BlobRecipe>();
  put(blob: BlobRecipe): void {
    this.blobs.set(blob.digest, blob);
  }
  get(digest: string): BlobRecipe | undefined {
    return this.blobs.get(digest);
  }
}
