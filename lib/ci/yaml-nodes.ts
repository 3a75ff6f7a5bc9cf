/** Small readers of YAML nodes that the YAML rewrite and its CI-specific checks share. */
import { type Document, isMap, isScalar, isSeq, type Pair, type YAMLMap } from 'yaml';

export const keyName = (pair: Pair) => (isScalar(pair.key) ? String(pair.key.value) : undefined);
export const entry = (map: YAMLMap, key: string) => map.items.find((pair) => keyName(pair) === key)?.value;

/** Bitbucket Pipelines by its content: `pipelines:` at the top, a mapping of its pipelines. */
export function isBitbucketPipelines(doc: Document): boolean {
  return isMap(doc.contents) && isMap(entry(doc.contents, 'pipelines'));
}

/** Every `image:` pair under `node`, at any depth. */
export function imagePairs(node: unknown): Pair[] {
  if (isSeq(node)) return node.items.flatMap(imagePairs);
  if (!isMap(node)) return [];
  return node.items.flatMap((pair) => [
    ...(keyName(pair) === 'image' ? [pair] : []),
    ...imagePairs(pair.value),
  ]);
}
