/** The sandbox's clock: real time plus an offset tests can advance (ECR's 24-hour window, PAT expiry). */
export class SandboxClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  date(): Date {
    return new Date(this.now());
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  advanceHours(hours: number): void {
    this.advance(hours * 3_600_000);
  }
}
