/**
 * A guardrail as platform teams write them on a repository: an explicit Deny of `actions` to
 * everyone but the platform's admin role (`aws:PrincipalArn`), which refuses the keeper's roles
 * whatever their own policies allow.
 */
export const PLATFORM_ADMIN = 'arn:aws:iam::123456789012:role/platform-admin';

/**
 * `exemptServiceRoles`: AWS's service-linked roles are exempt too, as a guardrail on a credential
 * secret must write it (ECR reads the secret as its pull-through service-linked role).
 */
export const guardrailPolicy = (
  actions: string | string[],
  options: { exemptServiceRoles?: boolean } = {},
): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyPlatformAdmins',
        Effect: 'Deny',
        Principal: '*',
        Action: actions,
        Condition: {
          StringNotLike: {
            'aws:PrincipalArn': options.exemptServiceRoles
              ? [PLATFORM_ADMIN, SERVICE_LINKED_ROLES]
              : PLATFORM_ADMIN,
          },
        },
      },
    ],
  });

/** Every service-linked role of the account, by the path AWS gives them. */
export const SERVICE_LINKED_ROLES = 'arn:aws:iam::*:role/aws-service-role/*';
