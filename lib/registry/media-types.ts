/** Manifest media types. Send the full list on HEAD and GET alike, or digests will not match. */
export const INDEX_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
] as const;
export const IMAGE_MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;
export const MANIFEST_ACCEPT = [...INDEX_MEDIA_TYPES, ...IMAGE_MEDIA_TYPES].join(', ');

export function isIndex(mediaType: string | undefined): boolean {
  return (INDEX_MEDIA_TYPES as readonly string[]).includes(mediaType ?? '');
}
