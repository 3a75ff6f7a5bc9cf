/**
 * A pre-warm list from the repositories, before anything has pulled through the cache: what
 * Dockerfiles and CI files pull through the rules (the references `rewrite` would rewrite) that
 * prewarm.images does not list. Reads no AWS; the CLI's alone (it carries the YAML parser).
 */
import { type FileKind, pulledReferences } from '../ci/rewrite.js';
import { parseImageRef, splitDigest } from '../config/image-ref.js';
import { cacheRepositoryName, resolveImage } from '../config/images.js';
import type { DesiredRule, KeeperConfig } from '../config/load.js';
import { errorMessage } from '../runtime/errors.js';
import { listedKeys, upstreamImageName } from './suggest.js';

export interface FileSuggestReport {
  /** Pulled through a rule by the files, not on prewarm.images (by name): candidates to add. */
  notListed: Array<{ image: string; pulledBy: string[] }>;
  /** References the files pull that cannot go on the list as written, and why. */
  skipped: Array<{ where: string; reference: string; why: string }>;
  /** Files that do not parse (rewrite says where). */
  unreadable: string[];
}

/** An ECR registry host, as a reference already pointed at the cache names it. */
const ECR_HOST = /\b\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\b/g;

/**
 * The cache's registry host: the one given, else the one ECR host the files name (references
 * `rewrite` pointed at the cache), else one no reference names.
 */
function cacheHost(files: ReadonlyArray<{ text: string }>, given?: string): string {
  if (given) return given.toLowerCase();
  const named = new Set(files.flatMap((f) => [...f.text.matchAll(ECR_HOST)].map((m) => m[0].toLowerCase())));
  return named.size === 1 ? [...named][0]! : 'cache.invalid';
}

/** The rule a cache repository is under: the longest prefix that holds it, else the ROOT rule. */
function ruleOfCacheRepository(config: KeeperConfig, repository: string): DesiredRule | undefined {
  return (
    config.rules
      .filter((r) => r.prefix !== 'ROOT' && repository.startsWith(`${r.prefix}/`))
      .sort((a, b) => b.prefix.length - a.prefix.length)[0] ?? config.rules.find((r) => r.prefix === 'ROOT')
  );
}

export function suggestFromFiles(
  config: KeeperConfig,
  files: ReadonlyArray<{ path: string; kind: FileKind; text: string }>,
  options: { registryHost?: string } = {},
): FileSuggestReport {
  const listed = listedKeys(config);
  const found = new Map<string, { image: string; pulledBy: string[] }>();
  const report: FileSuggestReport = { notListed: [], skipped: [], unreadable: [] };
  const target = { registryHost: cacheHost(files, options.registryHost), rules: config.rules };
  for (const file of files) {
    const { readable, references } = pulledReferences(file.text, file.kind, target, file.path);
    if (!readable) report.unreadable.push(file.path);
    for (const { line, reference } of references) {
      const where = `${file.path}:${line}`;
      // `${IMAGE:-node:22}` pulls its default when the variable is unset.
      const written = reference.match(/^\$\{\w+:?-([^${}]+)\}$/)?.[1] ?? reference;
      if (written.includes('$')) {
        report.skipped.push({ where, reference, why: 'built from a variable: list the tags it takes' });
        continue;
      }
      let parts: ReturnType<typeof splitDigest>;
      try {
        parts = splitDigest(written);
      } catch (error) {
        report.skipped.push({ where, reference, why: errorMessage(error) });
        continue;
      }
      const { name, digest, tagged } = parts;
      if (digest && !tagged) {
        report.skipped.push({ where, reference, why: 'pinned by digest only: list its tag' });
        continue;
      }
      const pulled = cachedImage(config, target.registryHost, name);
      if ('why' in pulled) {
        report.skipped.push({ where, reference, why: pulled.why });
        continue;
      }
      const key = `${pulled.cacheRepository}:${pulled.tag}`;
      if (listed.has(key)) continue;
      const entry = found.get(key) ?? {
        image: `${upstreamImageName(pulled.rule, pulled.cacheRepository)}:${pulled.tag}`,
        pulledBy: [],
      };
      if (!entry.pulledBy.includes(where)) entry.pulledBy.push(where);
      found.set(key, entry);
    }
  }
  report.notListed = [...found.values()].sort((a, b) => a.image.localeCompare(b.image));
  return report;
}

/** The cache repository, tag and rule of a reference as written, upstream or on the cache already. */
function cachedImage(
  config: KeeperConfig,
  registryHost: string,
  name: string,
): { rule: DesiredRule; cacheRepository: string; tag: string } | { why: string } {
  const ref = parseImageRef(name);
  if (ref.registry === registryHost) {
    const rule = ruleOfCacheRepository(config, ref.repository);
    return rule
      ? { rule, cacheRepository: ref.repository, tag: ref.tag }
      : { why: 'on the cache, under no rule of this config' };
  }
  const image = resolveImage(config, name);
  const rule = config.rules.find((r) => r.prefix === image.rulePrefix)!;
  return { rule, cacheRepository: cacheRepositoryName(image), tag: image.tag };
}

export function formatFileSuggestions(report: FileSuggestReport, withConfigLines: boolean): string {
  const lines = [
    report.notListed.length
      ? `Pulled by these files through the cache, not on prewarm.images (${report.notListed.length}):`
      : 'Everything these files pull through the cache is on prewarm.images.',
    ...report.notListed.map((i) => `  ${i.image.padEnd(32)} ${i.pulledBy.join(', ')}`),
  ];
  if (report.skipped.length) {
    lines.push(`Not listable as written (${report.skipped.length}):`);
    for (const s of report.skipped) lines.push(`  ${s.reference.padEnd(32)} ${s.where}: ${s.why}`);
  }
  if (report.unreadable.length)
    lines.push(`Not read (they do not parse; rewrite says where): ${report.unreadable.join(', ')}`);
  if (withConfigLines && report.notListed.length) {
    lines.push('', 'To add them, under prewarm.images in keeper.config.yaml:');
    for (const i of report.notListed) lines.push(`    - ${i.image}`);
  }
  return lines.join('\n');
}
