/**
 * Fault injection per route. A route is named `<service>:<what>`:
 *   aws      `ecr:DescribeImages`, `secretsmanager:GetSecretValue`, `cloudwatch:PutMetricData`
 *   hub      `hub:GET /v2/library/node/manifests/22`   (Docker Hub registry and its token realm)
 *   hubapi   `hubapi:POST /v2/access-tokens`
 *   registry `registry:GET /v2/docker-hub/library/node/manifests/22` (the ECR registry endpoint)
 *   upstream `upstream-quay.io:GET /v2/…` (another upstream's stand-in, options.upstreamStandIns)
 * `match` is a substring or a RegExp tested against that name.
 */
export interface Fault {
  match: string | RegExp;
  /** Added delay before the request is handled (or fails). */
  latencyMs?: number;
  /**
   * Added delay after the request was handled, before its answer completes: the way back of a round
   * trip. What the answer says (a quota, a digest) was true when it was handled, not when it arrives.
   */
  answerLatencyMs?: number;
  /** Answer with this HTTP status (registry routes) instead of handling the request. */
  status?: number;
  /** Body for `status` (JSON); a registry-style error by default. */
  body?: unknown;
  /** For AWS routes: answer with this exception name (e.g. ThrottlingException) and HTTP 400. */
  awsError?: string;
  /** Close the connection without an answer. */
  drop?: boolean;
  /** With `drop`: let the service act first, then drop the answer (did it happen or not?). */
  afterActing?: boolean;
  /** How many matching requests this fault affects; unlimited when absent. */
  times?: number;
  /** Something else that happens at that moment (another client spends the quota…), before the answer. */
  before?: () => void;
}

export interface ActiveFault extends Fault {
  hits: number;
}

export class FaultInjector {
  private faults: ActiveFault[] = [];

  add(fault: Fault): ActiveFault {
    const active = { ...fault, hits: 0 };
    this.faults.push(active);
    return active;
  }

  clear(): void {
    this.faults = [];
  }

  /** The faults that apply to this request; each use counts against its `times`. */
  take(route: string): { latencyMs: number; answerLatencyMs: number; failure?: ActiveFault } {
    let latencyMs = 0;
    let answerLatencyMs = 0;
    let failure: ActiveFault | undefined;
    for (const fault of this.faults) {
      const matches = typeof fault.match === 'string' ? route.includes(fault.match) : fault.match.test(route);
      if (!matches || (fault.times !== undefined && fault.hits >= fault.times)) continue;
      fault.hits++;
      fault.before?.();
      latencyMs += fault.latencyMs ?? 0;
      answerLatencyMs += fault.answerLatencyMs ?? 0;
      if (!failure && (fault.status !== undefined || fault.awsError !== undefined || fault.drop))
        failure = fault;
    }
    return { latencyMs, answerLatencyMs, failure };
  }
}
