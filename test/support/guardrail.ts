/**
 * A guardrail as platform teams write them on a repository: an explicit Deny of `actions` to
 * everyone but the platform's admin role (`aws:PrincipalArn`), which refuses the keeper's roles
 * whatever their own policies allow.
 */
export const PLATFORM_ADMIN = 'arn:aws:iam::123456789012:role/platform-admin';

export const guardrailPolicy = (actions: string | string[]): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyPlatformAdmins',
        Effect: 'Deny',
        Principal: '*',
        Action: actions,
        Condition: { StringNotLike: { 'aws:PrincipalArn': PLATFORM_ADMIN } },
      },
    ],
  });
