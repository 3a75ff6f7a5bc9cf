/**
 * Points the SDK (and the handlers' shared clients) at a sandbox for one test file, and gives the
 * handlers a resolved config, as `serverless package` does for Lambda.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resetSharedClients } from '../../../lib/aws/clients.js';
import { loadConfig } from '../../../lib/config/load.js';
import { writeResolvedConfig } from '../../../lib/config/resolved.js';
import { resetContainerConfig } from '../../../lib/runtime/handler.js';
import type { Sandbox } from '../../../sandbox/index.js';

/** Resolves a YAML config into a temporary JSON file and returns its path. */
export function resolvedConfigFile(yamlPath = 'keeper.config.yaml'): string {
  return writeResolvedConfig(
    loadConfig(yamlPath),
    join(mkdtempSync(join(tmpdir(), 'keeper-config-')), 'keeper.resolved.json'),
  );
}

export function useSandboxEnv(sandbox: Sandbox, extra: Record<string, string> = {}): () => void {
  const saved = new Map<string, string | undefined>();
  const values = {
    ...sandbox.env,
    ...extra,
    KEEPER_RESOLVED_CONFIG: resolvedConfigFile(extra.KEEPER_CONFIG),
  };
  for (const [key, value] of Object.entries(values)) {
    saved.set(key, process.env[key]);
    process.env[key] = value;
  }
  resetSharedClients();
  resetContainerConfig();
  return () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    resetSharedClients();
    resetContainerConfig();
  };
}
