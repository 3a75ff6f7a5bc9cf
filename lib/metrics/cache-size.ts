/**
 * The arithmetic of cache size: what ECR's DescribeImages says, turned into figures a person can
 * trust. A manifest list's `imageSizeInBytes` is the size of its largest child, which is also
 * listed, so lists are never added to the bytes. An image's last activity is its last recorded
 * pull, or its push when it was never pulled.
 */
import type { ImageDetail } from '@aws-sdk/client-ecr';
import { isIndex } from '../registry/media-types.js';

export const BYTES_PER_GB = 1024 ** 3;
const DAY_MS = 86_400_000;

export interface SizeFigures {
  images: number;
  tagged: number;
  untagged: number;
  /** Stored (compressed) bytes, lists not counted on top of their children. */
  bytes: number;
  bytesStandard: number;
  bytesArchive: number;
  staleImages: number;
  staleBytes: number;
}

export const emptyFigures = (): SizeFigures => ({
  images: 0,
  tagged: 0,
  untagged: 0,
  bytes: 0,
  bytesStandard: 0,
  bytesArchive: 0,
  staleImages: 0,
  staleBytes: 0,
});

export function addFigures<T extends SizeFigures>(into: T, from: SizeFigures): T {
  for (const key of Object.keys(emptyFigures()) as Array<keyof SizeFigures>) into[key] += from[key];
  return into;
}

export function lastActivity(image: ImageDetail): number | undefined {
  return (image.lastRecordedPullTime ?? image.imagePushedAt)?.getTime();
}

export function summarizeImages(images: ImageDetail[], now: number, staleAfterDays: number): SizeFigures {
  const figures = emptyFigures();
  const staleBefore = now - staleAfterDays * DAY_MS;
  for (const image of images) {
    figures.images++;
    if (image.imageTags?.length) figures.tagged++;
    else figures.untagged++;
    if (isIndex(image.imageManifestMediaType)) continue;
    const size = image.imageSizeInBytes ?? 0;
    figures.bytes += size;
    if (image.imageStatus === 'ARCHIVED') figures.bytesArchive += size;
    else figures.bytesStandard += size;
    const active = lastActivity(image);
    if (active !== undefined && active < staleBefore) {
      figures.staleImages++;
      figures.staleBytes += size;
    }
  }
  return figures;
}

/** Estimated monthly storage cost (ECR: about $0.10 per GB-month in us-east-1; configurable). */
export function monthlyCost(bytes: number, pricePerGbMonth: number): number {
  return Math.round((bytes / BYTES_PER_GB) * pricePerGbMonth * 100) / 100;
}
