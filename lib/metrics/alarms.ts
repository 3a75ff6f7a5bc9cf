/**
 * The alarms, as plain data: deploy/stack.cjs turns them into CloudWatch alarms, and the nightly
 * cycle evaluates them against the sandbox's metrics to say which would fire.
 */
import type { KeeperConfig } from '../config/load.js';

export interface AlarmDefinition {
  id: string;
  /** Short name for people: what fired. */
  title: string;
  description: string;
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  statistic: 'Minimum' | 'Maximum' | 'Sum';
  comparison: 'LessThanThreshold' | 'GreaterThanThreshold';
  threshold: number;
  periodSeconds: number;
  /** How many periods are looked at, and how many of them must breach (1 and 1 unless said). */
  evaluationPeriods?: number;
  /**
   * A period without a datum: `ignore` keeps the alarm as it is (a daily verdict on a credential: a
   * day the check could not get an answer neither fires nor clears it); `notBreaching` counts it as
   * fine (counts of failures: no datum, no failure).
   */
  missingData: 'ignore' | 'notBreaching';
}

/** Days in a row without a verdict on a token before it alarms: Docker Hub has bad days. */
const UNVERIFIED_DAYS = 3;
/** Nights in a row with images the pre-warm could not check before it alarms (the same patience). */
const UNVERIFIED_NIGHTS = 3;
/** Nights in a row in which no pre-warm got an answer for a single image. */
const STALLED_NIGHTS = 3;

export function alarmDefinitions(config: KeeperConfig): AlarmDefinition[] {
  const ns = config.metrics.namespace;
  const secrets = [
    ...new Set(config.rules.map((r) => r.credentialSecretName).filter((s): s is string => !!s)),
  ];
  const alarms: AlarmDefinition[] = [];
  for (const secret of secrets) {
    const id = secret.replace(/[^A-Za-z0-9]/g, '');
    const rotation = config.credential.rotation;
    if (rotation.mode === 'managed' && rotation.adminSecret) {
      alarms.push({
        id: 'AdminCredentialInvalid',
        title: `admin credential unusable (${rotation.adminSecret})`,
        description: `The Docker Hub admin credential in ${rotation.adminSecret} is missing, malformed or refused by the Hub API, or a credential secret logs in as another account (an organization access token: use staged rotation): the next managed rotation will fail. Fix it before the token expires (\`npx cache-keeper check\` says what is wrong).`,
        namespace: ns,
        metric: 'AdminCredentialValid',
        dimensions: { SecretName: rotation.adminSecret },
        statistic: 'Minimum',
        comparison: 'LessThanThreshold',
        threshold: 1,
        periodSeconds: 86_400,
        missingData: 'ignore',
      });
    }
    alarms.push(
      {
        id: `CredentialInvalid${id}`,
        title: `token invalid (${secret})`,
        description: `The Docker Hub token in ${secret} does not work (login refused, malformed, missing or rejected by ECR): new images and refreshes fail. \`npx cache-keeper check\` names the problem; fix the secret, or rotate or stage a new token.`,
        namespace: ns,
        metric: 'CredentialValid',
        dimensions: { SecretName: secret },
        statistic: 'Minimum',
        comparison: 'LessThanThreshold',
        threshold: 1,
        periodSeconds: 86_400,
        missingData: 'ignore',
      },
      {
        id: `CredentialUnverified${id}`,
        title: `token check without a verdict (${secret})`,
        description: `For ${UNVERIFIED_DAYS} days the daily check could not tell whether the Docker Hub token in ${secret} works (Docker Hub or the Hub API unreachable from the function, ECR's validation failing, or a policy refusing the function the secret while ECR takes the token): the "token invalid" alarm cannot fire meanwhile. The checkCredential logs say what failed; a function in a VPC needs a NAT route to Docker Hub.`,
        namespace: ns,
        metric: 'CredentialVerified',
        dimensions: { SecretName: secret },
        statistic: 'Maximum',
        comparison: 'LessThanThreshold',
        threshold: 1,
        periodSeconds: 86_400,
        evaluationPeriods: UNVERIFIED_DAYS,
        missingData: 'notBreaching',
      },
      {
        id: `CredentialExpiring${id}`,
        title: `token expiring (${secret})`,
        description: `The Docker Hub token in ${secret} expires in less than ${config.credential.warnDays} days: rotate or stage a new one.`,
        namespace: ns,
        metric: 'CredentialDaysToExpiry',
        dimensions: { SecretName: secret },
        statistic: 'Minimum',
        comparison: 'LessThanThreshold',
        threshold: config.credential.warnDays,
        periodSeconds: 86_400,
        missingData: 'ignore',
      },
    );
  }
  alarms.push(
    {
      id: 'PrewarmFailures',
      title: 'pre-warm failures',
      description:
        'The nightly pre-warm could not warm one or more images (the prewarm logs name image, step and cause).',
      namespace: ns,
      metric: 'PrewarmImagesFailed',
      dimensions: {},
      statistic: 'Maximum',
      comparison: 'GreaterThanThreshold',
      threshold: 0,
      periodSeconds: 86_400,
      missingData: 'notBreaching',
    },
    {
      id: 'PrewarmUnverified',
      title: 'pre-warm could not check images',
      description: `For ${UNVERIFIED_NIGHTS} nights every pre-warm left images unverified: Docker Hub failed or did not answer (or ECR kept throttling or failing), so the cache went on serving what it held and nothing was refreshed. The prewarm logs name image and cause; a function in a VPC needs a NAT route to Docker Hub.`,
      namespace: ns,
      metric: 'PrewarmImagesUnverified',
      dimensions: {},
      // Every run of each night (a run by hand included) left some unverified.
      statistic: 'Minimum',
      comparison: 'GreaterThanThreshold',
      threshold: 0,
      periodSeconds: 86_400,
      evaluationPeriods: UNVERIFIED_NIGHTS,
      missingData: 'notBreaching',
    },
    {
      id: 'PrewarmStalled',
      title: 'pre-warm made no progress',
      description: `For ${STALLED_NIGHTS} nights no pre-warm got an answer for a single image: every one was deferred, so nothing in the cache was checked or refreshed. The lease could not be taken (the credential secret's tags), Docker Hub answered 429 or throttled the login, Secrets Manager did not give the credential, or the run's time ran out. The prewarm logs (the report's lease, stoppedUpstream and reasons) say which; npx cache-keeper prewarm --dry-run shows it from a terminal.`,
      namespace: ns,
      metric: 'PrewarmImagesChecked',
      dimensions: {},
      // No run of each night (a run by hand included) checked anything.
      statistic: 'Maximum',
      comparison: 'LessThanThreshold',
      threshold: 1,
      periodSeconds: 86_400,
      evaluationPeriods: STALLED_NIGHTS,
      missingData: 'notBreaching',
    },
    {
      id: 'UpstreamPullFailures',
      title: 'failed upstream pulls',
      description:
        "ECR failed to pull from upstream through the cache (pull-through events with sync-status FAILED): the pullEvents logs name the repository, tag and ECR's failure code.",
      namespace: ns,
      metric: 'UpstreamPullFailures',
      dimensions: {},
      statistic: 'Sum',
      comparison: 'GreaterThanThreshold',
      threshold: 0,
      periodSeconds: 3_600,
      missingData: 'notBreaching',
    },
  );
  return alarms;
}

/**
 * Whether an alarm would be in ALARM for these data points, one per period, oldest first (none: not
 * breaching). A Sum alarm sums them all; another needs its evaluation periods' worth, each breaching.
 */
export function wouldFire(alarm: AlarmDefinition, values: number[]): boolean {
  const breaches = (value: number) =>
    alarm.comparison === 'LessThanThreshold' ? value < alarm.threshold : value > alarm.threshold;
  if (values.length === 0) return false;
  if (alarm.statistic === 'Sum') return breaches(values.reduce((a, b) => a + b, 0));
  const periods = values.slice(-(alarm.evaluationPeriods ?? 1));
  return periods.length === (alarm.evaluationPeriods ?? 1) && periods.every(breaches);
}
