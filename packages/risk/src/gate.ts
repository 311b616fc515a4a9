import { DataError } from '@task-agnostic/core';
import type { Regime, RiskVerdict, TradingDecision } from '@task-agnostic/core';
import { CorrelationCache } from './correlation.js';
import { flattenOrders } from './kill-switch.js';
import type { FlattenIntent } from './kill-switch.js';
import { accountLayer } from './layers/account.js';
import { exchangeLayer } from './layers/exchange.js';
import { marketLayer } from './layers/market.js';
import { portfolioLayer } from './layers/portfolio.js';
import { positionLayer } from './layers/position.js';
import { strategyLayer } from './layers/strategy.js';
import { systemLayer } from './layers/system.js';
import type { LayerContext, LayerResult } from './layers/types.js';
import { DEFAULT_RISK_CONFIG, parseRiskConfig } from './params.js';
import type { RiskConfig, RiskConfigInput } from './params.js';
import type { RiskState } from './state.js';
import { exitLevels } from './stops.js';

/** core's RiskVerdict plus what each layer did, the halt and the kill switch's flatten intent. */
export interface GateVerdict extends RiskVerdict {
  readonly layers: readonly LayerResult[];
  /** Set while the daily loss limit holds new trades back. */
  readonly haltedUntilMs?: number;
  readonly killed: boolean;
  /** Present while the kill switch is engaged and positions are open. */
  readonly flatten?: FlattenIntent;
  /**
   * Set when the decision asks for the side already held at a size within sizing.resizeBand of the
   * held size: the position is kept as it is (applyVerdict changes nothing), saving a re-sizing trade.
   */
  readonly keep?: boolean;
}

/** The gate's state that must survive a restart (store it in the journal, give it back to restore()). */
export interface RiskGateSnapshot {
  readonly haltUntilMs: number | null;
  readonly killReason: string | null;
  /** Highest equity seen since the last rearm(equity), or null when drawdown is measured from state.account.peakEquity. */
  readonly peakSinceRearm: number | null;
}

const LAYERS = [positionLayer, portfolioLayer, accountLayer, exchangeLayer, marketLayer, strategyLayer, systemLayer] as const;

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

function checkFinite(v: number, field: string, lo = -Infinity, hi = Infinity): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi)) throw new DataError(`${field} must be a finite number in [${lo}, ${hi}], got ${String(v)}`);
}

/**
 * The seven-layer pre-trade gate (position, portfolio, account, exchange, market, strategy,
 * system). Pure apart from three pieces of state that must outlive one call: the daily-loss halt
 * (until the next UTC day), the kill switch (until rearm()) and the correlation cache.
 */
export class RiskGate {
  readonly config: RiskConfig;
  private readonly correlations = new CorrelationCache();
  private haltUntilMs = -Infinity;
  private killReason: string | null = null;
  private peakSinceRearm: number | null = null;

  constructor(config?: RiskConfig | RiskConfigInput) {
    this.config = config === undefined ? DEFAULT_RISK_CONFIG : parseRiskConfig(config);
  }

  /** Engages the kill switch: every check vetoes and returns the orders that flatten the open positions. */
  kill(reason: string): void {
    if (this.killReason === null) this.killReason = reason;
  }

  /**
   * Re-arms after a kill (a human decision). With `equityNow`, the drawdown trigger is measured from
   * the highest equity seen from now on instead of the account's all-time peak; otherwise an account
   * still 15% under its peak would trip the switch again at the next check.
   */
  rearm(equityNow?: number): void {
    this.killReason = null;
    if (equityNow !== undefined) {
      checkFinite(equityNow, 'equityNow', 0);
      this.peakSinceRearm = equityNow;
    }
  }

  snapshot(): RiskGateSnapshot {
    return {
      haltUntilMs: Number.isFinite(this.haltUntilMs) ? this.haltUntilMs : null,
      killReason: this.killReason,
      peakSinceRearm: this.peakSinceRearm,
    };
  }

  /** Restores the halt, the kill switch and the rearm baseline after a restart. */
  restore(s: RiskGateSnapshot): void {
    if (s.haltUntilMs !== null) checkFinite(s.haltUntilMs, 'snapshot.haltUntilMs');
    if (s.peakSinceRearm !== null) checkFinite(s.peakSinceRearm, 'snapshot.peakSinceRearm', 0);
    this.haltUntilMs = s.haltUntilMs ?? -Infinity;
    this.killReason = s.killReason;
    this.peakSinceRearm = s.peakSinceRearm;
  }

  get killed(): boolean {
    return this.killReason !== null;
  }

  get haltedUntilMs(): number | undefined {
    return Number.isFinite(this.haltUntilMs) ? this.haltUntilMs : undefined;
  }

  /** Correlation cache counters (full recomputations, incremental slides, hits). */
  get correlationStats(): Readonly<{ full: number; slid: number; hits: number }> {
    return this.correlations.stats;
  }

  check(decision: TradingDecision, state: RiskState): GateVerdict {
    checkFinite(state.nowMs, 'state.nowMs');
    checkFinite(state.account.equity, 'state.account.equity');
    checkFinite(state.account.dayStartEquity, 'state.account.dayStartEquity');
    checkFinite(state.account.weekHighEquity, 'state.account.weekHighEquity');
    checkFinite(decision.confidence, 'decision.confidence', 0, 1);
    checkFinite(decision.agreement, 'decision.agreement', 0, 1);
    checkFinite(decision.sizeFraction, 'decision.sizeFraction', 0);
    const p = this.config;

    // Kill-switch triggers: drawdown beyond the limit, or most calls failing.
    const a = state.account;
    let peak: number;
    if (this.peakSinceRearm !== null) {
      this.peakSinceRearm = Math.max(this.peakSinceRearm, a.equity);
      peak = this.peakSinceRearm;
    } else peak = Math.max(a.peakEquity ?? a.weekHighEquity, a.weekHighEquity);
    const dd = peak > 0 ? (peak - a.equity) / peak : 0;
    if (dd >= p.killSwitch.maxDrawdown) this.kill(`drawdown ${(dd * 100).toFixed(2)}% >= ${(p.killSwitch.maxDrawdown * 100).toFixed(0)}%`);
    if (state.system && state.system.errorRate >= p.killSwitch.maxErrorRate) {
      this.kill(`error rate ${(state.system.errorRate * 100).toFixed(1)}% >= ${(p.killSwitch.maxErrorRate * 100).toFixed(0)}%`);
    }
    if (this.killReason !== null) {
      const orders = flattenOrders(state.positions, state.nowMs);
      return {
        approved: false,
        sizeFraction: 0,
        stopLossPct: 0,
        takeProfitPct: 0,
        reasons: [`system: kill switch engaged (${this.killReason}): flatten all and stop`],
        layers: [],
        killed: true,
        ...(orders.length ? { flatten: { reason: this.killReason, orders } } : {}),
      };
    }

    const halted = state.nowMs < this.haltUntilMs ? { haltedUntilMs: this.haltUntilMs } : {};
    if (decision.side === 'flat' || decision.action === 'hold') {
      // Going flat only lowers risk: never blocked.
      return { approved: true, sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, reasons: [], layers: [], killed: false, ...halted };
    }
    if (state.nowMs < this.haltUntilMs) {
      return {
        approved: false,
        sizeFraction: 0,
        stopLossPct: 0,
        takeProfitPct: 0,
        reasons: [`account: daily loss limit hit earlier today: no new trades until ${new Date(this.haltUntilMs).toISOString()}`],
        layers: [],
        killed: false,
        haltedUntilMs: this.haltUntilMs,
      };
    }

    let exposure = 0;
    for (const pos of state.positions) if (pos.symbol !== decision.symbol) exposure += Math.abs(pos.qty * pos.markPrice);
    exposure /= a.equity > 0 ? a.equity : Infinity;
    const volatilityPercentile = decision.outputs?.volatility?.percentile ?? state.market?.volatilityPercentile ?? 0.5;
    const regime: Regime | undefined = decision.outputs?.regime?.label ?? state.market?.regime;

    const layers: LayerResult[] = [];
    const reasons: string[] = [];
    let size = decision.sizeFraction;
    let vetoed = false;
    for (const layer of LAYERS) {
      const ctx: LayerContext = { decision, state, config: p, sizeFraction: size, exposure, volatilityPercentile, regime, correlations: this.correlations };
      const r = layer(ctx);
      layers.push(r);
      if (r.reason) reasons.push(r.reason);
      if (r.haltUntilMs !== undefined && r.haltUntilMs > this.haltUntilMs) this.haltUntilMs = r.haltUntilMs;
      // After a veto the later layers still run on the pre-veto size, so every reason is recorded.
      if (r.action === 'veto') vetoed = true;
      else size = r.sizeFraction;
    }
    const approved = !vetoed && size > 0;
    // decision mode: the policy sizes itself and sets its own exits (0 = none); otherwise the gate's exits
    const exits = !approved ? null : p.sizing.mode === 'decision' ? { stopLossPct: decision.stopLossPct, takeProfitPct: decision.takeProfitPct } : exitLevels(regime, volatilityPercentile, decision.outputs?.volatility?.expected, p);
    let keep = false;
    const band = p.sizing.resizeBand;
    if (approved && band > 0 && a.equity > 0) {
      const held = state.positions.find((x) => x.symbol === decision.symbol && x.side === decision.side && x.qty !== 0);
      const heldFraction = held ? Math.abs(held.qty * held.markPrice) / a.equity : 0;
      if (heldFraction > 0 && Math.abs(size - heldFraction) <= band * heldFraction) {
        keep = true;
        reasons.push(`position: ${decision.side} ${pct(heldFraction)} held, ${pct(size)} asked is within the ${pct(band)} resize band: kept`);
      }
    }
    return {
      approved,
      sizeFraction: approved ? size : 0,
      stopLossPct: exits ? exits.stopLossPct : 0,
      takeProfitPct: exits ? exits.takeProfitPct : 0,
      reasons,
      layers,
      killed: false,
      ...(keep ? { keep } : {}),
      ...(state.nowMs < this.haltUntilMs ? { haltedUntilMs: this.haltUntilMs } : {}),
    };
  }
}
