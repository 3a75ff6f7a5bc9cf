/** The cache's registry host and the `AWS:<password>` a real client (skopeo) logs in to it with. */
import { type ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';

export async function cacheLogin(ecr: ECRClient): Promise<{ host: string; creds: string }> {
  const auth = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
  // The token is base64 of `AWS:<password>`.
  return {
    host: new URL(auth.proxyEndpoint!).host,
    creds: Buffer.from(auth.authorizationToken!, 'base64').toString(),
  };
}
