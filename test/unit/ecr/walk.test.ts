/** walkRepositories: what befalls one repository never costs the others' figures. */
import { describe, expect, it } from 'vitest';
import { refusedEverywhere, walkRepositories } from '../../../lib/ecr/state.js';
import { DeadlineError } from '../../../lib/runtime/errors.js';

const awsError = (name: string, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(`${name} message`), { name, $fault: fault, $metadata: {} });
const listed = ['a', 'b', 'c'].map((n) => ({ name: `docker-hub/${n}`, prefix: 'docker-hub' }));

/** A read that fails for `b` with the given errors in turn, then answers. */
const readFailingB = (...errors: Error[]) => {
  const calls: string[] = [];
  return {
    calls,
    read: async (r: { name: string }) => {
      calls.push(r.name);
      if (r.name.endsWith('/b') && errors.length) throw errors.shift();
      return r.name.length;
    },
  };
};

describe('walkRepositories', () => {
  it.each([
    ['deleted since the listing', awsError('RepositoryNotFoundException'), { vanished: ['docker-hub/b'] }],
    [
      'refused by its own policy',
      awsError('AccessDeniedException'),
      {
        unreadable: [
          {
            name: 'docker-hub/b',
            prefix: 'docker-hub',
            error: 'AccessDeniedException: AccessDeniedException message',
          },
        ],
      },
    ],
    ['throttled for a moment', awsError('ThrottlingException'), { readAgain: 1 }],
    ['a 5xx for a moment', awsError('ServiceUnavailableException', 'server'), { readAgain: 1 }],
  ])('%s: the others are read, and it is accounted for', async (_name, error, expected) => {
    const { read } = readFailingB(error);
    const walk = await walkRepositories(listed, 2, read);
    expect(walk).toMatchObject({ vanished: [], unreadable: [], readAgain: 0, ...expected });
    const names = walk.read.map((r) => r.repository.name).sort();
    expect(names).toEqual(
      'readAgain' in expected ? listed.map((r) => r.name) : ['docker-hub/a', 'docker-hub/c'],
    );
  });

  it('a failure of the moment twice fails the walk, after one more try only', async () => {
    const { read, calls } = readFailingB(awsError('ThrottlingException'), awsError('ThrottlingException'));
    await expect(walkRepositories(listed, 2, read)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(calls.filter((c) => c.endsWith('/b'))).toHaveLength(2);
  });

  it.each([
    ['a request cut short at the deadline', new DeadlineError('ECR DescribeImages cut short')],
    ['anything else', awsError('InvalidParameterException')],
  ])('%s is not read again: the walk fails', async (_name, error) => {
    const { read, calls } = readFailingB(error);
    await expect(walkRepositories(listed, 1, read)).rejects.toBe(error);
    expect(calls.filter((c) => c.endsWith('/b'))).toHaveLength(1);
  });

  it("every repository refused is the caller's own permissions, and says so", async () => {
    const walk = await walkRepositories(listed, 2, async () => {
      throw awsError('AccessDeniedException');
    });
    expect(refusedEverywhere(walk, listed.length)?.message).toMatch(
      /^every cached repository refused this caller's reads \(AccessDeniedException/,
    );
    const { read } = readFailingB(awsError('AccessDeniedException'));
    expect(refusedEverywhere(await walkRepositories(listed, 2, read), listed.length)).toBeUndefined();
    expect(refusedEverywhere(await walkRepositories([], 2, async () => 1), 0)).toBeUndefined();
  });
});
