/** Pushes a sandbox-built image to a distribution registry through the OCI push API (monolithic uploads). */
import type { BuiltImage } from '../../../sandbox/dockerhub/images.js';
import { blobStream } from '../../../sandbox/registry/content.js';

export async function pushImage(
  baseUrl: string,
  /** Undefined for a registry that takes anonymous pushes. */
  authorization: string | undefined,
  repository: string,
  tag: string,
  image: BuiltImage,
): Promise<void> {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  for (const blob of image.blobs) {
    const start = await fetch(`${baseUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
    if (start.status !== 202) throw new Error(`upload start ${start.status}`);
    const location = new URL(start.headers.get('location')!, baseUrl);
    location.searchParams.set('digest', blob.digest);
    const chunks: Buffer[] = [];
    for await (const c of blobStream(blob)) chunks.push(c as Buffer);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: Buffer.concat(chunks),
    });
    if (put.status !== 201) throw new Error(`blob put ${put.status}: ${await put.text()}`);
  }
  // Children before the index that references them; the top manifest gets the tag.
  const children = image.manifests.filter((m) => m.digest !== image.top.digest);
  for (const m of children) {
    const res = await fetch(`${baseUrl}/v2/${repository}/manifests/${m.digest}`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': m.mediaType },
      body: m.bytes,
    });
    if (res.status !== 201) throw new Error(`manifest put ${res.status}: ${await res.text()}`);
  }
  const res = await fetch(`${baseUrl}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': image.top.mediaType },
    body: image.top.bytes,
  });
  if (res.status !== 201) throw new Error(`manifest put ${res.status}: ${await res.text()}`);
}
