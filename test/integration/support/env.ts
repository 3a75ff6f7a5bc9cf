/** Points the SDK (and the handlers' shared clients) at a sandbox for one test file. */
import { resetSharedClients } from '../../../lib/aws/clients.js';
import { resetContainerConfig } from '../../../lib/runtime/handler.js';
import type { Sandbox } from '../../../sandbox/index.js';

export function useSandboxEnv(sandbox: Sandbox, extra: Record<string, string> = {}): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries({ ...sandbox.env, ...extra })) {
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
