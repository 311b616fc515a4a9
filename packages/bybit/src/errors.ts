import { TaError } from '@task-agnostic/core';

/**
 * Bybit answered with a non-zero retCode (or an HTTP error). `retCode`/`retMsg` are Bybit's own
 * (see https://bybit-exchange.github.io/docs/v5/error); `httpStatus` is the HTTP status code.
 * Messages are redacted: API keys and secrets never appear in them.
 */
export class BybitApiError extends TaError {
  readonly retCode: number;
  readonly retMsg: string;
  readonly httpStatus: number;
  readonly endpoint: string;
  constructor(endpoint: string, retCode: number, retMsg: string, httpStatus = 200, code = 'BYBIT_API', options?: { cause?: unknown }) {
    super(code, `Bybit ${endpoint}: retCode ${retCode} (${retMsg})${httpStatus !== 200 ? ` HTTP ${httpStatus}` : ''}`, options);
    this.retCode = retCode;
    this.retMsg = retMsg;
    this.httpStatus = httpStatus;
    this.endpoint = endpoint;
  }
}

/**
 * A rate limit was hit and the retries allowed by the config ran out: retCode 10006 (per-UID,
 * per-endpoint limit) or HTTP 429 (system protection). `resetMs` is when Bybit said the window resets.
 */
export class BybitRateLimitError extends BybitApiError {
  readonly resetMs: number | undefined;
  constructor(endpoint: string, retCode: number, retMsg: string, httpStatus: number, resetMs?: number) {
    super(endpoint, retCode, retMsg, httpStatus, 'BYBIT_RATE_LIMIT');
    this.resetMs = resetMs;
  }
}

/**
 * HTTP 403: Bybit banned this IP (more than 600 requests in 5 s). The ban lasts at least 10 minutes;
 * the client refuses every request until `bannedUntilMs` without sending it. Stop and report.
 */
export class BybitIpBanError extends BybitApiError {
  readonly bannedUntilMs: number;
  constructor(endpoint: string, bannedUntilMs: number, retMsg = 'HTTP 403: IP rate limit exceeded') {
    super(endpoint, 403, retMsg, 403, 'BYBIT_IP_BAN');
    this.bannedUntilMs = bannedUntilMs;
  }
}

/** The request timed out or the connection failed: the outcome on the server is unknown. */
export class BybitNetworkError extends TaError {
  readonly endpoint: string;
  readonly timedOut: boolean;
  constructor(endpoint: string, message: string, timedOut: boolean, options?: { cause?: unknown }) {
    super(timedOut ? 'BYBIT_TIMEOUT' : 'BYBIT_NETWORK', `Bybit ${endpoint}: ${message}`, options);
    this.endpoint = endpoint;
    this.timedOut = timedOut;
  }
}

/** Bybit (or something in between) sent a body that is not the documented JSON shape. */
export class BybitProtocolError extends TaError {
  readonly endpoint: string;
  constructor(endpoint: string, message: string, options?: { cause?: unknown }) {
    super('BYBIT_PROTOCOL', `Bybit ${endpoint}: ${message}`, options);
    this.endpoint = endpoint;
  }
}

/** Bybit retCodes that say "try again": server timeout, server busy / restarting, request timestamp outside the recv window. */
const TRANSIENT_RET_CODES: ReadonlySet<number> = new Set([10000, 10002, 10016, 10019]);

/**
 * Whether a failed call may succeed later without anyone changing anything: a network error or
 * timeout, a 5xx, a malformed body, a rate limit (10006 / 429), an IP ban (403: it ends), or a
 * server-side retCode (10000, 10002, 10016, 10019). Everything else (bad keys 10003 / 10004,
 * permissions 10005, a params error 10001, a rejected order) needs a person: fatal for a loop.
 */
export function isTransientError(err: unknown): boolean {
  if (err instanceof BybitNetworkError || err instanceof BybitProtocolError) return true;
  if (err instanceof BybitRateLimitError || err instanceof BybitIpBanError) return true;
  if (err instanceof BybitApiError) return err.httpStatus >= 500 || TRANSIENT_RET_CODES.has(err.retCode);
  return false;
}
