// Lambda hands every function its role's credentials in environment variables, so the bundles
// replace the SDK's default provider chain (ini files, SSO, process, IMDS, web identity: modules
// that cost cold-start time and never apply in Lambda) with the environment provider alone.
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init = {}) => fromEnv(init);
