/** Names AWS constrains, shared by the config schema and the code that checks live resources. */
export const CREDENTIAL_SECRET_PREFIX = 'ecr-pullthroughcache/';
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)$/;

/** The secret's name, whether the config gives a name or an ARN (ARNs end in a 6-char suffix). */
export function secretNameOf(nameOrArn: string): string {
  const m = SECRET_ARN.exec(nameOrArn);
  return m ? m[1]!.replace(/-[A-Za-z0-9]{6}$/, '') : nameOrArn;
}

/**
 * A test of whether a text matches any of `patterns`, where `*` stands for any characters (none
 * included), as ECR reads its tag filters. Used for tag filters and for repository names; compiled
 * once, for walks over thousands of repositories.
 */
export function wildcardMatcher(patterns: readonly string[]): (text: string) => boolean {
  const compiled = patterns.map(
    (pattern) =>
      new RegExp(
        `^${pattern
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
  return (text) => compiled.some((re) => re.test(text));
}
