/**
 * Prometheus metrics of a trading run (prom-client, in a registry of its own so two runs in one
 * process never share counters): decisions, orders, fills, rejects, equity, exposure, per-stage
 * latency histograms, WebSocket reconnects and risk vetoes by layer. Served as text at /metrics.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CandleEvent } from '../engine-events.js';

/** Latency buckets (ms): the loop's stages run from microseconds (risk) to seconds (a backfill queue). */
export const LATENCY_BUCKETS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000] as const;

export class TraderMetrics {
  readonly registry = new Registry();
  private readonly decisions = new Counter({ name: 'trader_decisions_total', help: 'Decisions made, by symbol and action', labelNames: ['symbol', 'action'] as const, registers: [this.registry] });
  private readonly orders = new Counter({ name: 'trader_orders_total', help: 'Orders handed to the venue, by symbol and purpose (decision, kill, exit)', labelNames: ['symbol', 'kind'] as const, registers: [this.registry] });
  private readonly fills = new Counter({ name: 'trader_fills_total', help: 'Fills received', labelNames: ['symbol'] as const, registers: [this.registry] });
  private readonly rejects = new Counter({ name: 'trader_order_rejects_total', help: 'Orders the venue rejected', labelNames: ['symbol'] as const, registers: [this.registry] });
  private readonly vetoes = new Counter({ name: 'trader_risk_vetoes_total', help: 'Risk gate vetoes, by layer', labelNames: ['layer'] as const, registers: [this.registry] });
  private readonly equity = new Gauge({ name: 'trader_equity', help: 'Account equity (quote currency) after the last candle', labelNames: ['symbol'] as const, registers: [this.registry] });
  private readonly exposure = new Gauge({ name: 'trader_exposure_ratio', help: 'Signed position notional / equity after the last candle', labelNames: ['symbol'] as const, registers: [this.registry] });
  private readonly killed = new Gauge({ name: 'trader_kill_switch_engaged', help: '1 once the kill switch engaged', registers: [this.registry] });
  private readonly latency = new Histogram({ name: 'trader_latency_ms', help: 'Per-stage latency of the decision loop (ms)', labelNames: ['stage'] as const, buckets: [...LATENCY_BUCKETS_MS], registers: [this.registry] });
  readonly wsReconnects = new Counter({ name: 'trader_ws_reconnects_total', help: 'Market-data WebSocket reconnects', registers: [this.registry] });
  readonly wsConnected = new Gauge({ name: 'trader_ws_connected', help: '1 while the market-data WebSocket is open', registers: [this.registry] });
  readonly alertsSent = new Counter({ name: 'trader_alerts_total', help: 'Webhook alerts, by kind and outcome', labelNames: ['kind', 'outcome'] as const, registers: [this.registry] });

  /** Counts one candle's outcome (a few label lookups: microseconds). */
  observe(e: CandleEvent): void {
    const s = e.symbol;
    this.decisions.inc({ symbol: s, action: e.decision.action });
    if (e.target && e.execution !== null) this.orders.inc({ symbol: s, kind: e.target.kind });
    if (e.execution === 'rejected') this.rejects.inc({ symbol: s });
    if (e.fills) this.fills.inc({ symbol: s }, e.fills);
    for (const l of e.verdict.layers) if (l.action === 'veto') this.vetoes.inc({ layer: l.layer });
    // The gate's short cuts (kill switch, daily-loss halt) veto without running the layers: the
    // layer is the reason's prefix ("system: kill switch ...", "account: daily loss ...").
    if (!e.verdict.approved && !e.verdict.layers.length) this.vetoes.inc({ layer: /^(\w+):/.exec(e.verdict.reasons[0] ?? '')?.[1] ?? 'gate' });
    this.equity.set({ symbol: s }, e.equity);
    const p = e.position;
    this.exposure.set({ symbol: s }, p && e.equity > 0 ? ((p.side === 'long' ? 1 : -1) * p.qty * e.candle.close) / e.equity : 0);
    this.killed.set(e.verdict.killed ? 1 : 0);
    for (const [stage, ms] of e.stages) this.latency.observe({ stage }, ms);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
