import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mirrorConfig } from '../../../lib/ci/mirror-config.js';
import { parseConfig } from '../../../lib/config/load.js';

const shipped = readFileSync('keeper.config.yaml', 'utf8');

describe('mirror-config', () => {
  it.each([
    ['docker-hub', 'r.example/docker-hub'],
    ['ROOT', 'r.example'],
    ['team/hub', 'r.example/team/hub'],
  ])('a Docker Hub rule with prefix %s mirrors docker.io at %s', (prefix, location) => {
    const config = parseConfig(shipped.replace('prefix: docker-hub', `prefix: ${prefix}`));
    const out = mirrorConfig(config, 'containers', { registryHost: 'r.example' });
    expect(out.content).toContain(`[[registry.mirror]]\nlocation = "${location}"\n`);
  });

  it('says which file names the config when no rule caches Docker Hub', () => {
    const config = parseConfig(shipped, 'ci.yaml');
    const withoutHub = { ...config, rules: config.rules.filter((r) => r.upstream !== 'docker-hub') };
    expect(() => mirrorConfig(withoutHub, 'containers', { registryHost: 'r.example' })).toThrow(
      /^ci\.yaml: no rule caches Docker Hub/,
    );
  });
});
