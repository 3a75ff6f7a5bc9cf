import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isoDate } from '../../../cli/help.js';
import { runCli } from '../../../cli/main.js';
import { ConfigError } from '../../../lib/config/errors.js';
import { captureIo } from '../../support/cli-io.js';
import { RULES } from '../../support/configs.js';

describe('cache-keeper', () => {
  it('prints the usage and exits 2 without a command, 0 with --help', async () => {
    const none = captureIo();
    expect(await runCli([], none.io)).toBe(2);
    expect(none.out.join('')).toMatch(/^usage: cache-keeper <command>/);
    expect(await runCli(['--help'], captureIo().io)).toBe(0);
  });

  it('refuses an unknown command or option with exit 2 and the usage', async () => {
    const command = captureIo();
    expect(await runCli(['frobnicate'], command.io)).toBe(2);
    expect(command.err.join('')).toMatch(/unknown command "frobnicate"/);
    const option = captureIo();
    expect(await runCli(['plan', '--bogus'], option.io)).toBe(2);
    expect(option.err.join('')).toMatch(/^cache-keeper: Unknown option '--bogus'[\s\S]*usage: cache-keeper/);
  });

  it('validate prints the desired state of the shipped config', async () => {
    const run = captureIo();
    expect(await runCli(['validate'], run.io)).toBe(0);
    expect(run.out.join('\n')).toContain(
      'rule docker-hub → registry-1.docker.io (credential ecr-pullthroughcache/docker-hub)',
    );
    // The template's lifecycle rules as plan prints them, not as a line of JSON.
    expect(run.out).toContain('    template lifecycle rule 1: untagged sinceImagePushed 7 days expire');
    expect(run.out).toContain('    template lifecycle rule 2: tagged imageCountMoreThan 6 expire');
  });

  /** What `validate` prints for a one-rule Quay config with `more` added (it must validate). */
  const validated = async (more: string) => {
    const config = join(mkdtempSync(join(tmpdir(), 'keeper-validate-')), 'keeper.config.yaml');
    writeFileSync(config, `rules:\n  - prefix: quay\n    upstream: quay\n    template: {}\n${more}`);
    const run = captureIo();
    expect(await runCli(['validate', '--config', config], run.io)).toBe(0);
    return run.out;
  };

  it('validate says who access: lets pull through the cache', async () => {
    const out = await validated("access:\n  accounts: ['222222222222']\n  organizationId: o-abc123def4\n");
    expect(out).toContain('  access: 222222222222, organization o-abc123def4 may pull through the cache');
    expect(out).not.toContain('reconcile leaves alone');
  });

  it('validate names the repositories reconcile leaves alone', async () => {
    const out = await validated('reconcile:\n  excludeRepositories: [quay/team-d/*, quay/x]\n');
    expect(out).toContain('  reconcile leaves alone: quay/team-d/*, quay/x');
  });

  it('validate of a broken config fails with every problem and its path', async () => {
    await expect(
      runCli(['validate', '--config', 'does-not-exist.yaml'], captureIo().io),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it('uri maps a docker pull reference onto the cache, given the registry host', async () => {
    const run = captureIo();
    expect(
      await runCli(
        [
          'uri',
          'node:22-alpine',
          'bitnami/redis:7',
          '--registry',
          '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
        ],
        run.io,
      ),
    ).toBe(0);
    expect(run.out).toEqual([
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/node:22-alpine',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/bitnami/redis:7',
    ]);
  });

  it('uri checks every image first: one bad name prints nothing to stdout, names it on stderr, exits 2', async () => {
    const run = captureIo();
    const registry = ['--registry', '123456789012.dkr.ecr.eu-west-1.amazonaws.com'];
    expect(await runCli(['uri', 'node:22-alpine', 'Not Valid!', ...registry], run.io)).toBe(2);
    expect(run.out).toEqual([]);
    expect(run.err.join('\n')).toMatch(/^cache-keeper uri: Not Valid!: /);
    expect(run.err.join('\n')).not.toMatch(/config/i);
  });

  it("uri maps through the rule's upstream prefix, and for any registry a rule caches", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-uri-'));
    writeFileSync(join(dir, 'keeper.config.yaml'), RULES);
    const run = captureIo();
    const argv = ['uri', 'node:22', 'bitnami/redis:7', 'quay.io/prometheus/node-exporter:v1'];
    expect(
      await runCli([...argv, '--config', join(dir, 'keeper.config.yaml'), '--registry', 'r.example'], run.io),
    ).toBe(0);
    expect(run.out).toEqual([
      'r.example/docker-hub/node:22',
      'r.example/hub-all/bitnami/redis:7',
      'r.example/quay/prometheus/node-exporter:v1',
    ]);
  });

  it('uri keeps a pinned digest, as rewrite does, with the caution on stderr', async () => {
    const run = captureIo();
    const digest = `sha256:${'c'.repeat(64)}`;
    expect(
      await runCli(['uri', `node:22@${digest}`, `alpine@${digest}`, '--registry', 'r.example'], run.io),
    ).toBe(0);
    expect(run.out).toEqual([
      `r.example/docker-hub/library/node:22@${digest}`,
      `r.example/docker-hub/library/alpine@${digest}`,
    ]);
    expect(run.err).toEqual([
      expect.stringMatching(
        /^cache-keeper uri: node:22@sha256:c+: pinned by digest: an image not yet in the cache/,
      ),
      expect.stringMatching(/^cache-keeper uri: alpine@sha256:c+: pinned by digest/),
    ]);
    // Something after @ that is no digest is a bad command line, not a reference to print.
    const bad = captureIo();
    expect(await runCli(['uri', 'node@sha256:abc', '--registry', 'r.example'], bad.io)).toBe(2);
    expect(bad.out).toEqual([]);
    expect(bad.err.join('\n')).toMatch(/"sha256:abc" is not a digest/);
  });

  it('uri --json pairs each image with its cache reference', async () => {
    const run = captureIo();
    expect(await runCli(['uri', 'node:22-alpine', '--json', '--registry', 'r.example'], run.io)).toBe(0);
    expect(JSON.parse(run.out.join('\n'))).toEqual([
      { image: 'node:22-alpine', reference: 'r.example/docker-hub/library/node:22-alpine' },
    ]);
  });
});

describe('help, version and exit codes', () => {
  it.each([
    'validate',
    'plan',
    'apply',
    'prewarm',
    'check',
    'rotate',
    'credential',
    'metrics',
    'uri',
    'mirror-config',
    'rewrite',
    'ci-snippet',
    'suggest',
    'cycle',
  ])('`%s --help` and `help %s` print that command’s own help, exit 0', async (command) => {
    const a = captureIo();
    expect(await runCli([command, '--help'], a.io)).toBe(0);
    expect(a.out.join('\n')).toMatch(new RegExp(`^usage: cache-keeper ${command}`));
    const b = captureIo();
    expect(await runCli(['help', command], b.io)).toBe(0);
    expect(b.out).toEqual(a.out);
  });

  it('`help` and `--version` exit 0', async () => {
    const help = captureIo();
    expect(await runCli(['help'], help.io)).toBe(0);
    expect(help.out.join('\n')).toMatch(/exit codes:/);
    const version = captureIo();
    expect(await runCli(['--version'], version.io)).toBe(0);
    expect(version.out).toEqual([expect.stringMatching(/^cache-keeper \d+\.\d+\.\d+ \(sources\)$/)]);
  });

  /** A credential command that must be refused as a bad command line (exit 2) before any AWS call. */
  const refused = async (argv: string[], message: RegExp) => {
    const run = captureIo();
    // No endpoint answers here: a command that got as far as AWS would fail otherwise, not with 2.
    expect(await runCli([...argv, '--region', 'us-east-1'], run.io)).toBe(2);
    expect(run.err.join('\n')).toMatch(message);
  };

  it('dates are ISO 8601 only: 01/06/2027 is refused, not read as 6 January', async () => {
    await refused(['credential', 'record', '--expires-at', '01/06/2027'], /ISO 8601 date, YYYY-MM-DD/);
  });

  it.each([
    [['credential', 'record', '--expires-at', '2020-01-01'], /--expires-at: 2020-01-01 has passed/],
    [['credential', 'stage', '--expires-at', '2026-01-01'], /--expires-at: 2026-01-01 has passed/],
    [
      ['credential', 'record', '--expires-at', '2027-06-01', '--uuid', 'not-a-uuid'],
      /--uuid: "not-a-uuid" is not a UUID/,
    ],
    [['credential', 'stage'], /--expires-at is required/],
  ])('%j is refused as a bad command line, before anything is written', async (argv, message) => {
    await refused(argv, message);
  });

  it.each([
    ['2027-06-01', '2027-06-01T00:00:00.000Z'],
    ['2028-02-29', '2028-02-29T00:00:00.000Z'],
    ['2027-06-01T10:30:00+02:00', '2027-06-01T08:30:00.000Z'],
    ['2027-02-29', undefined],
    ['2027-02-30', undefined],
    ['2027-04-31', undefined],
    ['2027-13-01', undefined],
    ['2027-06-31T10:00:00Z', undefined],
    ['01/06/2027', undefined],
  ])(
    'isoDate(%s) is %s: a day that is not in the calendar is refused, not moved to the next month',
    (text, iso) => {
      expect(isoDate(text)).toBe(iso);
    },
  );

  it('a date that is not in the calendar is named as such', async () => {
    await refused(
      ['credential', 'record', '--expires-at', '2027-02-30'],
      /--expires-at: 2027-02-30 is not a day of the calendar/,
    );
  });
});
