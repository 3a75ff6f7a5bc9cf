/**
 * Starts the CNCF distribution registry (Debian package `docker-registry`) on loopback with a
 * generated config (filesystem storage in a temp dir, htpasswd Basic auth), for the tests that
 * keep the sandbox honest. Without the binary the tests are skipped with a message, except under
 * CI (`CI=true`), where it must be there (`.ci/run` installs it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

export const REAL_REGISTRY_BINARY = 'docker-registry';
export const INSTALL_HINT =
  'install it with `apt-get install docker-registry` (Debian) to run the real-registry tests';

export function realRegistryAvailable(): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${REAL_REGISTRY_BINARY}`]).status === 0;
  if (!found && process.env.CI === 'true') {
    throw new Error(`${REAL_REGISTRY_BINARY} is required under CI: ${INSTALL_HINT}`);
  }
  if (!found)
    console.warn(`skipping real-registry tests: ${REAL_REGISTRY_BINARY} not found; ${INSTALL_HINT}`);
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface RealRegistry {
  url: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

/** `anonymous`: no auth at all (a public registry: pulls and, here, pushes without credentials). */
export async function startRealRegistry(options: { anonymous?: boolean } = {}): Promise<RealRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-registry-'));
  const port = await freePort();
  const username = 'tester';
  const password = 'tester-password-1';
  writeFileSync(join(dir, 'htpasswd'), `${username}:${bcrypt.hashSync(password, 5)}\n`);
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port}, secret: keeper-test-secret }`,
      ...(options.anonymous
        ? []
        : [`auth: { htpasswd: { realm: keeper-test, path: ${join(dir, 'htpasswd')} } }`]),
      '',
    ].join('\n'),
  );
  const child = spawn(REAL_REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 401 || res.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() - started > 15_000) {
      child.kill();
      throw new Error(`docker-registry did not start: ${stderr.slice(0, 500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    username,
    password,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
