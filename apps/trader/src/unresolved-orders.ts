/**
 * Orders whose outcome the trader does not know: a request that has not answered yet (a stalled
 * send), one whose answer was lost (a timeout: the exchange may have it, or get it later while the
 * request is held somewhere), or an intent not found at a restart (it was in flight at the crash).
 * An exchange refuses a signed request it processes later than its timestamp plus the recv window,
 * so such an order's fate is settled only once that time (plus a margin for clock skew) has passed
 * after its last possible signing: until then it stays unknown, the risk gate allows no new entries
 * for the symbol, and no order is sent for it. Then it is looked up again, and what the exchange
 * says is adopted.
 */
export interface UnresolvedOrder {
  readonly clientOrderId: string;
  /** When the trader started to wonder (wall clock ms). */
  readonly sinceMs: number;
  /** Look the order up again from this wall-clock time on (Infinity while its request is still open). */
  deadlineMs: number;
  /** The request has not returned yet. */
  sending: boolean;
}

export class UnresolvedOrders {
  private readonly byId = new Map<string, UnresolvedOrder>();
  private readonly inflight = new Set<Promise<unknown>>();

  get size(): number {
    return this.byId.size;
  }

  has(clientOrderId: string): boolean {
    return this.byId.has(clientOrderId);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** A request for this order is on its way (its fate is unknown until it answers). */
  sending(clientOrderId: string, nowMs: number): void {
    this.byId.set(clientOrderId, { clientOrderId, sinceMs: nowMs, deadlineMs: Infinity, sending: true });
  }

  /** No answer that settles it: look it up again from `deadlineMs` on (last signing + recv window + margin). */
  unknownUntil(clientOrderId: string, deadlineMs: number, nowMs: number): void {
    const o = this.byId.get(clientOrderId);
    if (o) {
      o.sending = false;
      o.deadlineMs = deadlineMs;
    } else this.byId.set(clientOrderId, { clientOrderId, sinceMs: nowMs, deadlineMs, sending: false });
  }

  /** The exchange answered (accepted, filled, rejected, or provably never placed). */
  settle(clientOrderId: string): void {
    this.byId.delete(clientOrderId);
  }

  /** Orders whose deadline has passed: ask the exchange about them now. */
  due(nowMs: number): UnresolvedOrder[] {
    return [...this.byId.values()].filter((o) => !o.sending && o.deadlineMs <= nowMs);
  }

  /** The latest deadline of the orders not in flight (-Infinity when none). */
  lastDeadline(): number {
    let t = -Infinity;
    for (const o of this.byId.values()) if (!o.sending && o.deadlineMs > t) t = o.deadlineMs;
    return t;
  }

  /** Keeps a background send in view until it settles (`drain` waits for it). Its errors are the caller's to handle: here they are dropped. */
  track(p: Promise<unknown>): void {
    const q: Promise<unknown> = p.then(
      () => this.inflight.delete(q),
      () => this.inflight.delete(q),
    );
    this.inflight.add(q);
  }

  /** Waits for every request still in flight. */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }
}
