/**
 * The engine's observer for operations: on every candle it updates the Prometheus metrics, raises
 * alerts (the kill switch engaging, a new daily-loss halt, a rejected order) and queues a compact
 * event for the dashboard's Server-Sent Events clients. Work on the candle path is a few counter
 * updates and an array push; serialising and writing to the browsers happens later (setImmediate),
 * and not at all when no browser is connected.
 */
import type { CandleEvent, EngineObserver } from '../engine-events.js';
import type { AlertNotifier } from './alerts.js';
import type { TraderMetrics } from './metrics.js';

/** What the page receives per candle (see static/dashboard.js). */
export interface LiveEvent {
  readonly type: 'candle';
  readonly symbol: string;
  readonly ts: number;
  readonly close: number;
  readonly equity: number;
  readonly position: { side: string; qty: number; entryPrice: number } | null;
  readonly decision: {
    id: number; action: string; side: string; confidence: number; agreement: number; sizeFraction: number; reasoning: string;
    approved: boolean; approvedSize: number; reasons: readonly string[]; layers: readonly unknown[];
    target: { kind: string; side: string; sizeFraction: number; stopLossPct: number; takeProfitPct: number; status: string | null } | null;
  };
  readonly heads: { up: number | null; down: number | null; sideways: number | null; volPercentile: number | null; volExpected: number | null; regime: string | null; regimeConfidence: number | null };
  readonly stages: readonly (readonly [string, number])[];
  readonly killed: boolean;
  readonly killReason: string | null;
}

/** Something that takes serialised SSE frames (the dashboard server). */
export interface EventSink {
  readonly clients: number;
  broadcast(frame: string): void;
}

export class TradingMonitor implements EngineObserver {
  private pending: CandleEvent[] = [];
  private scheduled = false;
  private readonly killed = new Set<string>();
  private readonly haltUntil = new Map<string, number>();
  sink: EventSink | null = null;

  constructor(readonly metrics: TraderMetrics, readonly alerts: AlertNotifier) {}

  onCandle(e: CandleEvent): void {
    this.metrics.observe(e);
    this.checkAlerts(e);
    if (!this.sink || this.sink.clients === 0) return;
    this.pending.push(e);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Serialises and sends the queued events (off the candle path). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (!this.sink || !batch.length) return;
    for (const e of batch) this.sink.broadcast(`event: candle\ndata: ${JSON.stringify(toLive(e))}\n\n`);
  }

  private checkAlerts(e: CandleEvent): void {
    const s = e.symbol;
    if (e.verdict.killed && !this.killed.has(s)) {
      this.killed.add(s);
      this.alerts.notify({ kind: 'kill-switch', message: `${s}: kill switch engaged (${e.killReason ?? e.verdict.reasons[0] ?? 'risk gate'}): flattening, no new trades`, data: { symbol: s, candleTs: e.candle.tsMs, reason: e.killReason ?? e.verdict.reasons[0] ?? null, equity: e.equity } });
    }
    const until = e.verdict.haltedUntilMs;
    if (until !== undefined && until > (this.haltUntil.get(s) ?? 0)) {
      this.haltUntil.set(s, until);
      this.alerts.notify({ kind: 'daily-loss-halt', message: `${s}: daily loss limit hit: no new trades until ${new Date(until).toISOString()}`, data: { symbol: s, candleTs: e.candle.tsMs, haltedUntilMs: until, equity: e.equity } });
    }
    if (e.execution === 'rejected') {
      this.alerts.notify({ kind: 'order-rejected', message: `${s}: order ${e.target?.clientOrderId ?? ''} rejected: ${e.executionError ?? 'no reason given'}`, data: { symbol: s, candleTs: e.candle.tsMs, clientOrderId: e.target?.clientOrderId ?? null, error: e.executionError ?? null } });
    }
  }
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function toLive(e: CandleEvent): LiveEvent {
  const o = e.outputs;
  const d = e.decision;
  const v = e.verdict;
  return {
    type: 'candle',
    symbol: e.symbol,
    ts: e.candle.tsMs,
    close: e.candle.close,
    equity: e.equity,
    position: e.position ? { side: e.position.side, qty: e.position.qty, entryPrice: e.position.entryPrice } : null,
    decision: {
      id: e.decisionId, action: d.action, side: d.side, confidence: d.confidence, agreement: d.agreement, sizeFraction: d.sizeFraction, reasoning: d.reasoning,
      approved: v.approved, approvedSize: v.sizeFraction, reasons: v.reasons, layers: v.layers,
      target: e.target ? { kind: e.target.kind, side: e.target.side, sizeFraction: e.target.sizeFraction, stopLossPct: e.target.stopLossPct, takeProfitPct: e.target.takeProfitPct, status: e.execution } : null,
    },
    heads: {
      up: num(o?.direction?.up), down: num(o?.direction?.down), sideways: num(o?.direction?.sideways),
      volPercentile: num(o?.volatility?.percentile), volExpected: num(o?.volatility?.expected),
      regime: o?.regime?.label ?? null, regimeConfidence: num(o?.regime?.confidence),
    },
    stages: e.stages,
    killed: v.killed,
    killReason: e.killReason,
  };
}

/**
 * Watches the market-data connection: a disconnect longer than `maxDownMs` raises one
 * 'disconnect' alert; a reconnect counts in the metrics. Polls a cheap `isOpen` getter (the Bybit
 * socket's) once a second, so the stream code needs no hook.
 */
export class ConnectionWatch {
  private downSince: number | null = null;
  private alerted = false;
  private wasOpen = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly isOpen: () => boolean,
    private readonly maxDownMs: number,
    private readonly metrics: TraderMetrics,
    private readonly alerts: AlertNotifier,
    private readonly now: () => number = Date.now,
  ) {}

  start(pollMs = 1000): void {
    this.timer = setInterval(() => this.check(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  check(): void {
    const open = this.isOpen();
    const t = this.now();
    this.metrics.wsConnected.set(open ? 1 : 0);
    if (open) {
      if (this.downSince !== null && this.wasOpen) this.metrics.wsReconnects.inc();
      this.downSince = null;
      this.alerted = false;
      this.wasOpen = true;
      return;
    }
    if (!this.wasOpen) return; // still connecting for the first time
    if (this.downSince === null) this.downSince = t;
    if (!this.alerted && t - this.downSince > this.maxDownMs) {
      this.alerted = true;
      this.alerts.notify({ kind: 'disconnect', message: `market data disconnected for more than ${Math.round(this.maxDownMs / 1000)} s`, data: { downSinceMs: this.downSince, downForMs: t - this.downSince } });
    }
  }
}
