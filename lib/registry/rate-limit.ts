/**
 * Docker Hub's pull quota headers: `ratelimit-limit: 200;w=21600`, `ratelimit-remaining: 76;w=21600`,
 * `docker-ratelimit-source`. No headers means the source is unlimited (paid plan or exempt).
 */
export interface RateLimit {
  limit: number;
  remaining: number;
  windowSeconds: number;
  source?: string;
}

function parsePart(value: string | null): { count: number; window?: number } | undefined {
  if (!value) return undefined;
  const m = /^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?/.exec(value);
  if (!m) return undefined;
  return { count: Number(m[1]), window: m[2] ? Number(m[2]) : undefined };
}

export function readRateLimit(headers: Headers): RateLimit | undefined {
  const limit = parsePart(headers.get('ratelimit-limit'));
  const remaining = parsePart(headers.get('ratelimit-remaining'));
  if (!limit || !remaining) return undefined;
  return {
    limit: limit.count,
    remaining: remaining.count,
    windowSeconds: remaining.window ?? limit.window ?? 21_600,
    source: headers.get('docker-ratelimit-source') ?? undefined,
  };
}
