import { redactSecrets } from '@task-agnostic/core';
import type { BybitClientOptions, ResolvedEndpoints } from './config.js';
import { BybitApiError, BybitIpBanError, BybitNetworkError, BybitProtocolError, BybitRateLimitError } from './errors.js';
import { backoffMs, parseLimitHeaders, RateLimitTracker, sleep } from './rate-limit.js';

/** The part of a ccxt exchange instance the transport uses (ccxt's own types are too wide to export). */
interface CcxtExchange {
  request(path: string, api: string, method: string, params: Record<string, unknown>): Promise<unknown>;
  handleErrors: (status: number, statusText: string, url: string, method: string, headers: Record<string, unknown>, body: string, response: unknown) => unknown;
  returnResponseHeaders: boolean;
}

export interface BybitResponse<T> {
  readonly result: T;
  /** Server time of the response (ms), Bybit's `time` field. */
  readonly timeMs: number;
  readonly headers: Record<string, unknown>;
}

export interface TransportDeps {
  readonly random?: () => number;
  readonly now?: () => number;
}

export interface RequestStats {
  requests: number;
  retries: number;
  rateLimitWaits: number;
}

/**
 * REST over ccxt: ccxt builds the URL, signs private calls (HMAC-SHA256 as in signing.ts) and
 * throttles; this layer turns Bybit's answers into typed errors, follows the rate-limit headers,
 * retries what is safe to retry and keeps the keys out of every message.
 */
export class BybitTransport {
  readonly #options: BybitClientOptions;
  readonly #endpoints: ResolvedEndpoints;
  #exchange: Promise<CcxtExchange> | undefined;
  readonly #limits = new RateLimitTracker();
  readonly #random: () => number;
  readonly #now: () => number;
  #bannedUntilMs = 0;
  readonly stats: RequestStats = { requests: 0, retries: 0, rateLimitWaits: 0 };

  constructor(options: BybitClientOptions, endpoints: ResolvedEndpoints, deps: TransportDeps = {}) {
    this.#options = options;
    this.#endpoints = endpoints;
    this.#random = deps.random ?? Math.random;
    this.#now = deps.now ?? Date.now;
  }

  get hasKeys(): boolean {
    return this.#options.apiKey !== undefined;
  }

  /**
   * The smallest number of requests left in any private endpoint's current rate-limit window
   * (Bybit's X-Bapi-Limit-Status headers; windows already reset count as full), or undefined
   * before any private response carried the headers.
   */
  rateLimitRemaining(nowMs = this.#now()): number | undefined {
    return this.#limits.minRemaining(nowMs);
  }

  get bannedUntilMs(): number {
    return this.#bannedUntilMs;
  }

  redact(text: string): string {
    return redactSecrets(text, [this.#options.apiKey, this.#options.apiSecret]);
  }

  /** ccxt costs ~1 s to import: load it on the first request only. */
  #load(): Promise<CcxtExchange> {
    if (!this.#exchange) {
      this.#exchange = import('ccxt').then((ccxt) => {
        const rest = this.#endpoints.restUrl;
        const ex = new ccxt.bybit({
          apiKey: this.#options.apiKey,
          secret: this.#options.apiSecret,
          timeout: this.#options.timeoutMs,
          enableRateLimit: true,
          urls: { api: { public: rest, private: rest, spot: rest, futures: rest, v2: rest } },
          options: { recvWindow: this.#options.recvWindowMs, fetchMarkets: { types: ['linear'] } },
        }) as unknown as CcxtExchange;
        ex.returnResponseHeaders = true;
        ex.handleErrors = (status, _statusText, url, _method, headers, body, response) => this.#check(url, status, headers, body, response);
        return ex;
      });
    }
    return this.#exchange;
  }

  /** Runs on every response inside ccxt: throws our typed errors; returns true to skip ccxt's. */
  #check(url: string, status: number, headers: Record<string, unknown>, body: string, response: unknown): true {
    const endpoint = this.redact(new URL(url).pathname);
    if (status === 403) throw new BybitIpBanError(endpoint, this.#now() + this.#options.ipBanMs);
    if (status === 429) throw new BybitRateLimitError(endpoint, 429, 'HTTP 429: too many requests (system protection)', 429);
    // 5xx: the server (or a gateway) failed; the outcome is unknown, like a network error.
    if (status >= 500) throw new BybitNetworkError(endpoint, `HTTP ${status}: ${this.redact(String(body).slice(0, 120))}`, false);
    if (status !== 200) throw new BybitApiError(endpoint, -1, this.redact(String(body).slice(0, 200)), status);
    if (response === undefined || response === null || typeof response !== 'object') {
      throw new BybitProtocolError(endpoint, `response is not JSON: ${this.redact(String(body).slice(0, 80))}`);
    }
    const r = response as { retCode?: unknown; retMsg?: unknown };
    const retCode = Number(r.retCode);
    if (!Number.isInteger(retCode)) throw new BybitProtocolError(endpoint, 'response has no retCode');
    if (retCode !== 0) {
      const msg = this.redact(String(r.retMsg ?? ''));
      if (retCode === 10006) throw new BybitRateLimitError(endpoint, 10006, msg, 200, parseLimitHeaders(headers)?.resetMs);
      throw new BybitApiError(endpoint, retCode, msg, 200);
    }
    return true;
  }

  /**
   * Calls `path` (e.g. 'v5/market/kline'). Retries: 10006 after the reset time, 429 with backoff,
   * and (when `idempotent`) network errors, timeouts and malformed bodies with backoff. 403 is never
   * retried: it sets a local ban during which nothing is sent.
   */
  async request<T>(api: 'public' | 'private', method: 'GET' | 'POST', path: string, params: Record<string, unknown>, idempotent = method === 'GET'): Promise<BybitResponse<T>> {
    const endpoint = '/' + path;
    const o = this.#options;
    for (let attempt = 0; ; attempt++) {
      const now = this.#now();
      if (now < this.#bannedUntilMs) throw new BybitIpBanError(endpoint, this.#bannedUntilMs, 'refused locally: the IP ban from an earlier HTTP 403 is still in force');
      const wait = this.#limits.waitMs(endpoint, now);
      if (wait > 0) {
        if (wait > o.maxRateLimitWaitMs) throw new BybitRateLimitError(endpoint, 10006, `rate limit window resets in ${wait} ms (> maxRateLimitWaitMs)`, 200, now + wait);
        this.stats.rateLimitWaits++;
        await sleep(wait);
        this.#limits.consumeReset(endpoint);
      }
      try {
        this.stats.requests++;
        const ex = await this.#load();
        const raw = (await ex.request(path, api, method, params)) as { result?: T; time?: unknown; responseHeaders?: Record<string, unknown> };
        const headers = raw.responseHeaders ?? {};
        this.#limits.update(endpoint, headers);
        return { result: raw.result as T, timeMs: Number(raw.time), headers };
      } catch (err) {
        const e = this.#classify(endpoint, err);
        if (e instanceof BybitIpBanError) {
          this.#bannedUntilMs = e.bannedUntilMs;
          throw e;
        }
        const retryable =
          e instanceof BybitRateLimitError || (idempotent && (e instanceof BybitNetworkError || e instanceof BybitProtocolError));
        if (!retryable || attempt >= o.maxRetries) throw e;
        this.stats.retries++;
        let delay = backoffMs(attempt, o.backoffBaseMs, o.backoffMaxMs, this.#random);
        if (e instanceof BybitRateLimitError && e.retCode === 10006 && e.resetMs !== undefined) {
          const untilReset = e.resetMs - this.#now();
          if (untilReset > o.maxRateLimitWaitMs) throw e;
          delay = Math.max(0, untilReset) + 5;
        }
        await sleep(delay);
      }
    }
  }

  /** Maps whatever ccxt threw to our typed errors (ccxt's own network errors included). */
  #classify(endpoint: string, err: unknown): Error {
    if (err instanceof BybitApiError || err instanceof BybitProtocolError || err instanceof BybitNetworkError) return err;
    const e = err as { name?: string; message?: string };
    const msg = this.redact(String(e?.message ?? err));
    if (e?.name === 'RequestTimeout') return new BybitNetworkError(endpoint, `request timed out after ${this.#options.timeoutMs} ms`, true);
    if (e?.name === 'NetworkError' || e?.name === 'ExchangeNotAvailable' || e?.name === 'DDoSProtection') return new BybitNetworkError(endpoint, msg, false);
    return new BybitProtocolError(endpoint, msg);
  }
}
