/**
 * The region, resolved the way the AWS CLI resolves it: the --region flag, then AWS_REGION, then
 * AWS_DEFAULT_REGION, then the `region` of the profile (AWS_PROFILE, else `default`) in the config
 * file (AWS_CONFIG_FILE, else ~/.aws/config). Never a silent default: with none of them, an error
 * naming the ways to set it, so `plan` never looks at another region than the one deployed to.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KeeperError } from '../runtime/errors.js';

export class RegionError extends KeeperError {
  override name = 'RegionError';
}

export interface ResolvedRegion {
  region: string;
  source: string;
}

/** Pure: the `region` of a profile in the text of an AWS config file. */
export function profileRegion(configText: string, profile: string): string | undefined {
  const header =
    profile === 'default'
      ? /^\[\s*(?:profile\s+)?default\s*\]$/
      : new RegExp(`^\\[\\s*profile\\s+${profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\]$`);
  let inside = false;
  for (const raw of configText.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) inside = header.test(line);
    else if (inside) {
      const m = /^region\s*=\s*([^\s#;]+)/.exec(line);
      if (m) return m[1];
    }
  }
  return undefined;
}

export function resolveRegion(
  env: NodeJS.ProcessEnv,
  flag?: string,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ResolvedRegion {
  if (flag) return { region: flag, source: '--region' };
  if (env.AWS_REGION) return { region: env.AWS_REGION, source: 'AWS_REGION' };
  if (env.AWS_DEFAULT_REGION) return { region: env.AWS_DEFAULT_REGION, source: 'AWS_DEFAULT_REGION' };
  const profile = env.AWS_PROFILE ?? 'default';
  const file = env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config');
  let text = '';
  try {
    text = readFile(file);
  } catch {
    // no config file: fall through to the error
  }
  const region = profileRegion(text, profile);
  if (region) return { region, source: `profile ${profile} in ${file}` };
  throw new RegionError(
    `no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or set region in profile "${profile}" of ${file}`,
  );
}
