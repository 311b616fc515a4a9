/**
 * Fault injection for the simulator. REST faults apply to the next `count` requests whose path
 * starts with `path` (every path when omitted), or with `forMs` to every such request for that long
 * (e.g. 3 s of 503s), or (count Infinity) until the test withdraws them; WebSocket faults apply to
 * the next pushes.
 */
export type RestFault =
  /** Bybit's per-UID, per-endpoint limit: HTTP 200, retCode 10006, reset `resetInMs` from now. */
  | { readonly kind: 'retCode10006'; readonly resetInMs?: number }
  /** HTTP 429 (system-level protection). */
  | { readonly kind: 'http429' }
  /** HTTP 5xx from a gateway, before the request reaches the engine (default 502). */
  | { readonly kind: 'http5xx'; readonly status?: number }
  /** HTTP 403 (IP limit): every request is refused for `banMs` (Bybit: at least 10 minutes). */
  | { readonly kind: 'http403'; readonly banMs?: number }
  /** HTTP 200 with a truncated, non-JSON body. */
  | { readonly kind: 'malformed' }
  /** Hold the request `ms` before processing it (a lost or slow request). */
  | { readonly kind: 'delayBefore'; readonly ms: number }
  /** Process the request at once but hold the response `ms` (a lost or slow response). */
  | { readonly kind: 'delayAfter'; readonly ms: number }
  /** Hold the request (its body read) until `until` settles, then process it: a stalled request the test lets go. */
  | { readonly kind: 'hold'; readonly until: PromiseLike<unknown> };

export type WsFault =
  /** Push a frame that is not JSON before the next message. */
  | { readonly kind: 'malformed' }
  /** Swap the next closed kline with the one after it. */
  | { readonly kind: 'outOfOrderKline' }
  /** Push the next closed kline twice. */
  | { readonly kind: 'duplicateKline' }
  /** Skip one orderbook update id (the next delta's u jumps by 2). */
  | { readonly kind: 'skipOrderbookUpdate' };

interface Pending<T> {
  fault: T;
  path: string | undefined;
  left: number;
  /** Wall-clock end of a timed fault (every matching request until then). */
  untilMs?: number;
}

export class FaultInjector {
  private readonly restQueue: Pending<RestFault>[] = [];
  private readonly wsQueue: Pending<WsFault>[] = [];
  /** Faults applied so far, for assertions. */
  readonly applied: { rest: number; ws: number } = { rest: 0, ws: 0 };

  /**
   * Inject `fault` into the next `count` REST requests whose path starts with `path`; with `forMs`,
   * into every such request for the next `forMs` of wall-clock time instead. Returns a function that
   * withdraws the fault (what is left of it): with `count: Infinity`, an outage that ends when the test says.
   */
  rest(fault: RestFault, options: { path?: string; count?: number; forMs?: number } = {}): () => void {
    const pending: Pending<RestFault> = { fault, path: options.path, left: options.count ?? 1, ...(options.forMs !== undefined ? { untilMs: Date.now() + options.forMs } : {}) };
    this.restQueue.push(pending);
    return () => {
      const i = this.restQueue.indexOf(pending);
      if (i >= 0) this.restQueue.splice(i, 1);
    };
  }

  /** Inject `fault` into the next `count` WebSocket pushes where it applies. */
  ws(fault: WsFault, count = 1): void {
    this.wsQueue.push({ fault, path: undefined, left: count });
  }

  clear(): void {
    this.restQueue.length = 0;
    this.wsQueue.length = 0;
  }

  /** @internal */
  takeRest(path: string): RestFault | undefined {
    const now = Date.now();
    for (let k = this.restQueue.length - 1; k >= 0; k--) if (this.restQueue[k]!.untilMs !== undefined && now >= this.restQueue[k]!.untilMs!) this.restQueue.splice(k, 1);
    const i = this.restQueue.findIndex((p) => p.path === undefined || path.startsWith(p.path));
    if (i < 0) return undefined;
    const p = this.restQueue[i]!;
    if (p.untilMs === undefined && --p.left <= 0) this.restQueue.splice(i, 1);
    this.applied.rest++;
    return p.fault;
  }

  /** @internal */
  takeWs(kind: WsFault['kind']): WsFault | undefined {
    const i = this.wsQueue.findIndex((p) => p.fault.kind === kind);
    if (i < 0) return undefined;
    const p = this.wsQueue[i]!;
    if (--p.left <= 0) this.wsQueue.splice(i, 1);
    this.applied.ws++;
    return p.fault;
  }
}
