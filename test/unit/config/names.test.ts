import { describe, expect, it } from 'vitest';
import { wildcardMatcher } from '../../../lib/config/names.js';

describe('wildcardMatcher: * for any characters, / included; the rest as written', () => {
  it.each([
    [['docker-hub/team-d/*'], 'docker-hub/team-d/alpha', true],
    [['docker-hub/team-d/*'], 'docker-hub/team-d/a/b', true],
    [['docker-hub/team-d/*'], 'docker-hub/team-d', false],
    [['docker-hub/team-d/*'], 'docker-hub/team-dx/alpha', false],
    [['docker-hub/*/redis'], 'docker-hub/library/redis', true],
    [['docker-hub/*/redis'], 'docker-hub/library/redis-stack', false],
    [['docker-hub/library/redis'], 'docker-hub/library/redis', true],
    [['docker-hub/library/redis'], 'docker-hub/library/redis2', false],
    // Regular-expression characters are literal.
    [['docker-hub/a.b'], 'docker-hub/axb', false],
    [['docker-hub/a.b'], 'docker-hub/a.b', true],
    [['*'], 'anything/at/all', true],
    [['v*-alpine', 'latest'], 'latest', true],
    [['v*-alpine', 'latest'], 'v22-alpine', true],
    [['v*-alpine', 'latest'], 'v22', false],
    [[], 'docker-hub/x', false],
  ])('%j and %s: %s', (patterns, text, expected) => {
    expect(wildcardMatcher(patterns)(text)).toBe(expected);
  });
});
