import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/runtime/logger.js';
import { redact, redactText, registerSecret } from '../../../lib/runtime/redact.js';

describe('redaction', () => {
  it('masks values under secret-looking keys but keeps names of secrets', () => {
    expect(
      redact({
        accessToken: 'abc',
        password: 'p',
        secretName: 'ecr-pullthroughcache/x',
        nested: { Authorization: 'Basic xyz' },
      }),
    ).toEqual({
      accessToken: '[redacted]',
      password: '[redacted]',
      secretName: 'ecr-pullthroughcache/x',
      nested: { Authorization: '[redacted]' },
    });
  });

  it('masks Docker Hub PATs and bearer tokens inside free text', () => {
    expect(redactText('login with dckr_pat_AbC123-xyz failed; header Bearer eyJhbGciOi.x.y')).toBe(
      'login with [redacted] failed; header Bearer [redacted]',
    );
  });

  it('masks a registered secret value wherever it appears, including error causes', () => {
    registerSecret('s3cr3t-value-123');
    const error = new Error('upstream said s3cr3t-value-123 is wrong', {
      cause: new Error('again s3cr3t-value-123'),
    });
    expect(JSON.stringify(redact({ error }))).not.toContain('s3cr3t-value-123');
  });

  it('the logger writes one JSON line per entry with secrets masked', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l), context: { function: 'test' } });
    registerSecret('another-secret-456');
    logger.info('rotated', { token: 'x', note: 'value another-secret-456' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      level: 'info',
      message: 'rotated',
      function: 'test',
      token: '[redacted]',
      note: 'value [redacted]',
    });
  });

  it('drops entries below the configured level', () => {
    const lines: string[] = [];
    createLogger({ level: 'warn', write: (l) => lines.push(l) }).info('quiet');
    expect(lines).toEqual([]);
  });
});
