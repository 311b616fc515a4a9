/**
 * Client-side view of Bybit's rate limits: the X-Bapi-Limit-* headers of each private response
 * say how many requests are left on that endpoint and when the window resets. When none are
 * left, the next request on that endpoint waits for the reset instead of earning a 10006.
 */
export interface LimitState {
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === want && v !== undefined && v !== null) return String(v);
  return undefined;
}

/** Reads X-Bapi-Limit, X-Bapi-Limit-Status and X-Bapi-Limit-Reset-Timestamp, if all are present. */
export function parseLimitHeaders(headers: Record<string, unknown> | undefined): LimitState | undefined {
  const limit = Number(header(headers, 'X-Bapi-Limit'));
  const remaining = Number(header(headers, 'X-Bapi-Limit-Status'));
  const resetMs = Number(header(headers, 'X-Bapi-Limit-Reset-Timestamp'));
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(resetMs) || header(headers, 'X-Bapi-Limit') === undefined) return undefined;
  return { limit, remaining, resetMs };
}

export class RateLimitTracker {
  private readonly byEndpoint = new Map<string, LimitState>();

  update(endpoint: string, headers: Record<string, unknown> | undefined): void {
    const s = parseLimitHeaders(headers);
    if (s) this.byEndpoint.set(endpoint, s);
  }

  /** How long to wait before calling `endpoint` (0 when requests are left or the window passed). */
  waitMs(endpoint: string, nowMs: number): number {
    const s = this.byEndpoint.get(endpoint);
    if (!s || s.remaining > 0 || s.resetMs <= nowMs) return 0;
    return s.resetMs - nowMs;
  }

  /** The fewest requests left over every endpoint seen (a window past its reset counts as its full limit). */
  minRemaining(nowMs: number): number | undefined {
    let min: number | undefined;
    for (const s of this.byEndpoint.values()) {
      const left = s.resetMs <= nowMs ? s.limit : s.remaining;
      if (min === undefined || left < min) min = left;
    }
    return min;
  }

  state(endpoint: string): LimitState | undefined {
    return this.byEndpoint.get(endpoint);
  }

  /** After a wait, assume the window reset (the next response brings the real numbers). */
  consumeReset(endpoint: string): void {
    const s = this.byEndpoint.get(endpoint);
    if (s) this.byEndpoint.set(endpoint, { ...s, remaining: s.limit });
  }
}

/**
 * Exponential backoff with "equal jitter": half the capped exponential delay plus a random half,
 * so that many clients dropped together do not reconnect in lockstep.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
