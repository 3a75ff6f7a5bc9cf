/**
 * The desired state as the Lambda functions read it: resolved and validated from
 * keeper.config.yaml when the stack is packaged (a bad config fails `serverless package`, not the
 * 3 a.m. run), written as JSON, and read here without the YAML parser and schema library, which
 * keeps every bundle small and its cold start short.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { KeeperError } from '../runtime/errors.js';
import type { KeeperConfig } from './load.js';

const KIND = 'ecr-cache-keeper/resolved-config';
// 2: each pre-warm image carries its rule's upstreamPrefix.
const VERSION = 2;

export class ResolvedConfigError extends KeeperError {
  override name = 'ResolvedConfigError';
}

export function serializeResolvedConfig(config: KeeperConfig): string {
  return `${JSON.stringify({ kind: KIND, version: VERSION, config }, null, 1)}\n`;
}

export function writeResolvedConfig(config: KeeperConfig, outPath: string): string {
  writeFileSync(outPath, serializeResolvedConfig(config));
  return outPath;
}

export function readResolvedConfig(path: string): KeeperConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ResolvedConfigError(
      `${path}: cannot read the resolved config (${(cause as Error).message}); \`serverless package\` writes it`,
      { cause },
    );
  }
  let parsed: { kind?: string; version?: number; config?: KeeperConfig };
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ResolvedConfigError(
      `${path}: not JSON; point KEEPER_RESOLVED_CONFIG at the file \`serverless package\` writes, not at the YAML`,
      { cause },
    );
  }
  if (parsed.kind === KIND && parsed.version !== VERSION) {
    throw new ResolvedConfigError(
      `${path}: written by another version of ecr-cache-keeper (resolved config version ${parsed.version}, this one reads ${VERSION}): run \`serverless package\` again`,
    );
  }
  if (parsed.kind !== KIND || !parsed.config?.rules) {
    throw new ResolvedConfigError(
      `${path}: not a resolved ecr-cache-keeper config (kind ${KIND}, version ${VERSION})`,
    );
  }
  return parsed.config;
}
