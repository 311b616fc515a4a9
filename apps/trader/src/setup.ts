/** Wiring: a model, fusion, a risk gate, a venue and the journal into a TradingEngine per symbol, one portfolio. */
import { randomBytes } from 'node:crypto';
import { consistencyFusion, policyFusion, seedThresholds, weightedSignalFusion, TiltRunner, TILT_RISK_OVERRIDES, type FusionPolicy } from '@task-agnostic/fusion';
import { GarchVolatilityStream } from '@task-agnostic/heads';
import { StreamingPredictor, type TaskAgnosticModel, type TiltPolicyData } from '@task-agnostic/model';
import { AccountTracker, RiskGate, withRiskOverrides } from '@task-agnostic/risk';
import { PortfolioAccount } from '@task-agnostic/backtest';
import { ConfigError, INTERVAL_MS, type Candle, type SymbolId, type TaskOutputs } from '@task-agnostic/core';
import type { Logger } from 'pino';
import { traderRiskConfig, type TraderConfig } from './config.js';
import { TradingEngine, type CandlePredictor, type Fuse } from './engine.js';
import type { EngineObserver } from './engine-events.js';
import type { Journal } from './journal.js';
import { PaperVenue, type Venue } from './venue.js';
import type { MarketFeed } from './market-feed.js';
import { Portfolio } from './portfolio.js';

/** The fusion function a config names (its own thresholds, no fitted policy). */
export function fusionOf(cfg: Pick<TraderConfig, 'fusion' | 'fusionConfig'>): Fuse {
  const config = cfg.fusionConfig as Parameters<typeof consistencyFusion>[1];
  if (cfg.fusion === 'weighted') return (o, ctx) => weightedSignalFusion(o, config as Parameters<typeof weightedSignalFusion>[1], ctx);
  return (o, ctx) => consistencyFusion(o, config, ctx);
}

/** One symbol's decision step: the fusion function and, for a stateful policy (the tilt), what every bar feeds it. */
export interface SymbolDecision {
  readonly fuse: Fuse;
  /** Told every candle in order, live or replayed from the journal, with the model's outputs (undefined while it warms up). */
  readonly onBar?: (c: Candle, outputs: TaskOutputs | undefined) => void;
}

export interface TraderDecision {
  /** 'fused': fusion -> gate; 'tilt': the model's tilt policy -> gate ('decision' sizing). */
  readonly kind: 'fused' | 'tilt';
  /** The fused strategy's fusion (every symbol shares it); the tilt is per symbol: see forSymbol. */
  readonly fuse: Fuse;
  /** Each symbol's decision step (a fresh TiltRunner and GARCH stream per symbol for the tilt). */
  readonly forSymbol: (symbol: SymbolId) => SymbolDecision;
  /** The risk config for the gate, with the policy's entry thresholds (or the tilt's overrides) put in. */
  readonly risk: unknown;
  readonly policy: FusionPolicy | null;
  readonly tilt: TiltPolicyData | null;
  readonly note: string;
}

/**
 * The fusion and risk settings the trader decides with: the model's decision policy for the
 * configured fusion (thresholds fitted on validation, as the trainer's backtest uses them), or the
 * source design's thresholds with `thresholds: 'seed'` or a model that carries no policy; with
 * `policy: 'tilt'`, the model's tilt policy (a ConfigError when the artifact carries none).
 */
export function decisionOf(cfg: Pick<TraderConfig, 'fusion' | 'fusionConfig' | 'risk' | 'thresholds'> & Partial<Pick<TraderConfig, 'policy' | 'interval'>>, model: Pick<TaskAgnosticModel, 'decisionPolicy'> | undefined): TraderDecision {
  if (cfg.policy === 'tilt') return tiltDecisionOf(cfg, model);
  const policy = cfg.thresholds === 'seed' ? null : ((model?.decisionPolicy?.fusions[cfg.fusion] as FusionPolicy | undefined) ?? null);
  const fused = policyFusion(cfg.fusion, cfg.fusionConfig, policy);
  const risk = policy ? { ...withRiskOverrides(cfg.risk, policy.risk), minConfidence: policy.gate.minConfidence, minAgreement: policy.gate.minAgreement } : cfg.risk;
  const show = (t: Readonly<Record<string, number>>) => Object.entries(t).map(([k, v]) => `${k} ${+v.toFixed(4)}`).join(', ');
  const note = policy
    ? `${cfg.fusion} fusion with the model's thresholds fitted on validation (${show(policy.thresholds)}${policy.options?.directionRule ? `, side ${policy.options.directionRule}` : ''}; source ${show(policy.seed)})`
    : `${cfg.fusion} fusion with the source design's thresholds (${show(seedThresholds(cfg.fusion, cfg.fusionConfig))})${cfg.thresholds === 'seed' ? '' : ': the model carries no fitted policy'}`;
  const fuse: Fuse = (o, ctx) => fused(o, ctx);
  return { kind: 'fused', fuse, forSymbol: () => ({ fuse }), risk, policy, tilt: null, note };
}

/** `policy: 'tilt'`: the artifact's tilt policy, a TiltRunner and a GARCH stream per symbol, the gate in 'decision' sizing. */
function tiltDecisionOf(cfg: Pick<TraderConfig, 'risk' | 'thresholds'> & Partial<Pick<TraderConfig, 'interval'>>, model: Pick<TaskAgnosticModel, 'decisionPolicy'> | undefined): TraderDecision {
  const tilt = model?.decisionPolicy?.tilt;
  if (!tilt) {
    throw new ConfigError('--policy tilt: the model carries no fitted tilt policy (decisionPolicy.tilt): refit the run with `trainer calibrate <run>` (it fits the tilt on validation beside the fusions), or trade the fused strategy with --policy fused', 'policy');
  }
  if (cfg.thresholds === 'seed') throw new ConfigError('--thresholds seed is for the fused strategy (the source thresholds); the tilt policy has no source values: drop it, or use --policy fused', 'thresholds');
  const interval = cfg.interval ?? '1h';
  const risk = withRiskOverrides(cfg.risk, TILT_RISK_OVERRIDES);
  const r = traderRiskConfig({ risk, interval });
  const fitted = tilt.base.garch ?? {};
  const forSymbol = (symbol: SymbolId): SymbolDecision => {
    const g = fitted[symbol];
    if (!g) {
      const have = Object.keys(fitted);
      throw new ConfigError(
        `--policy tilt: the model's tilt policy has no GARCH fit for ${symbol} (${have.length ? `it has ${have.join(', ')}` : 'it carries none: fitted before the trader could run it'}): refit with \`trainer calibrate <run>\` on data that includes ${symbol}`,
        'policy',
      );
    }
    const garch = new GarchVolatilityStream(g, tilt.base.garchHorizon);
    const runner = new TiltRunner(tilt, { targetAnnualVol: r.sizing.targetAnnualVol, maxLeverage: r.sizing.maxLeverage, barsPerYear: r.sizing.barsPerYear, rebalanceEvery: tilt.base.rebalanceEvery, barMs: INTERVAL_MS[interval] });
    return {
      fuse: (o, ctx) => runner.decide(ctx?.heldExposure ?? 0, ctx?.symbol, o),
      onBar: (c, outputs) => runner.observe(c.tsMs, outputs, garch.next(c.close)),
    };
  };
  const note =
    `tilt policy fitted on validation: vol-targeted long (${(r.sizing.targetAnnualVol * 100).toFixed(0)}% vol target, GARCH, at most ${r.sizing.maxLeverage}x) x clamp(1 + ${tilt.weight} x score, 0, ${tilt.maxTilt})` +
    `${tilt.heads.length ? ` from the ${tilt.heads.join(' + ')} head` : ' (weight 0: the baseline)'}${tilt.halfLife ? `, score smoothed over a ${tilt.halfLife}-bar half-life` : ''}, ` +
    `rebalanced every ${tilt.base.rebalanceEvery} bars from 00:00 UTC outside a ${tilt.band ?? 0} no-trade band; the risk gate sizes by the decision (limits and kill switch in force)`;
  const fuse: Fuse = () => {
    throw new Error('the tilt policy decides per symbol: use decision.forSymbol(symbol)');
  };
  return { kind: 'tilt', fuse, forSymbol, risk, policy: null, tilt, note };
}

/** The run tag (part of every client order id): kept in the journal so a restart re-derives the same ids. */
export function runTagOf(journal: Journal, wanted?: string): string {
  const stored = journal.getMeta('runTag');
  if (stored) return stored;
  const tag = (wanted ?? randomBytes(4).toString('hex')).replace(/[^A-Za-z0-9]/g, '').slice(0, 6) || 'run';
  journal.setMeta('runTag', tag);
  return tag;
}

export interface EngineSetup {
  readonly symbol: SymbolId;
  readonly config: TraderConfig;
  readonly journal: Journal;
  readonly logger: Logger;
  /** The model (a StreamingPredictor is built for it) or a predictor (test doubles). */
  readonly model?: TaskAgnosticModel;
  readonly predictor?: CandlePredictor;
  /** Default: a paper account with config.account. */
  readonly venue?: Venue;
  readonly runTag?: string;
  readonly killFile?: string;
  readonly onStatus?: (line: string) => void;
  /** Told about every candle after its order was sent (dashboard, metrics, alerts). */
  readonly observer?: EngineObserver;
  /** Live connection, rate-limit budget, spread and depth for the gate (streams and exchanges). */
  readonly marketFeed?: MarketFeed;
}

export function createEngine(s: EngineSetup): TradingEngine {
  // the symbol picks its own normaliser and task states where the model has them (per-symbol models)
  const predictor = s.predictor ?? (s.model ? new StreamingPredictor(s.model, { symbol: s.symbol }) : undefined);
  if (!predictor) throw new Error('createEngine needs a model or a predictor');
  const venue = s.venue ?? new PaperVenue(s.symbol, s.config.account, INTERVAL_MS[s.config.interval]);
  const decision = decisionOf(s.config, s.model);
  const step = decision.forSymbol(s.symbol);
  return new TradingEngine({
    symbol: s.symbol,
    interval: s.config.interval,
    journal: s.journal,
    venue,
    predictor,
    fuse: step.fuse,
    ...(step.onBar ? { onBar: step.onBar } : {}),
    gate: new RiskGate(traderRiskConfig({ risk: decision.risk, interval: s.config.interval })),
    runTag: runTagOf(s.journal, s.runTag),
    logger: s.logger,
    statusEvery: s.config.statusEvery,
    ...(s.killFile ? { killFile: s.killFile } : {}),
    ...(s.onStatus ? { onStatus: s.onStatus } : {}),
    ...(s.observer ? { observer: s.observer } : {}),
    ...(s.config.tradeFromMs !== undefined ? { tradeFromMs: s.config.tradeFromMs } : {}),
    ...(s.marketFeed ? { marketFeed: s.marketFeed } : {}),
  });
}

export interface PortfolioSetup extends Omit<EngineSetup, 'symbol' | 'venue' | 'predictor'> {
  /** Traded symbols, in the order each time step runs them (default config.symbols). */
  readonly symbols?: readonly SymbolId[];
  /** Live: a venue per symbol on the one exchange account. Default: one paper PortfolioAccount over all symbols. */
  readonly venueFor?: (symbol: SymbolId) => Venue;
  /** Test doubles: a predictor per symbol. */
  readonly predictorFor?: (symbol: SymbolId) => CandlePredictor;
  /** Test doubles: a decision function per symbol instead of the config's fusion. */
  readonly fuseFor?: (symbol: SymbolId) => Fuse;
}

/**
 * One portfolio: a TradingEngine per symbol (its own predictor state and journal rows) sharing one
 * account (paper: a PortfolioAccount; live: the exchange account), one RiskGate and one account
 * tracker, so exposure, correlation and the daily / weekly limits see every symbol.
 */
export function createPortfolio(s: PortfolioSetup): Portfolio {
  const symbols = s.symbols ?? s.config.symbols;
  const iv = INTERVAL_MS[s.config.interval];
  const paper = s.venueFor ? undefined : new PortfolioAccount(symbols, s.config.account, { barMs: iv });
  const portfolio = new Portfolio(symbols, paper);
  // The model's decision policy (fitted thresholds) or the source thresholds, as a lone engine gets.
  const decision = decisionOf(s.config, s.model);
  // config.risk over the volTarget profile (unless it names one), sized for the interval: the same
  // gate config a lone engine builds, for the fused strategy and the tilt alike.
  const gate = new RiskGate(traderRiskConfig({ risk: decision.risk, interval: s.config.interval }));
  const tracker = new AccountTracker();
  const runTag = runTagOf(s.journal, s.runTag);
  for (const symbol of symbols) {
    const predictor = s.predictorFor?.(symbol) ?? (s.model ? new StreamingPredictor(s.model) : undefined);
    if (!predictor) throw new Error('createPortfolio needs a model or predictorFor');
    const venue = s.venueFor ? s.venueFor(symbol) : new PaperVenue(symbol, s.config.account, iv, paper);
    const step: SymbolDecision = s.fuseFor ? { fuse: s.fuseFor(symbol) } : decision.forSymbol(symbol);
    portfolio.add(
      new TradingEngine({
        symbol, interval: s.config.interval, journal: s.journal, venue, predictor, fuse: step.fuse, ...(step.onBar ? { onBar: step.onBar } : {}), gate, tracker, portfolio, runTag,
        logger: s.logger, statusEvery: s.config.statusEvery,
        ...(s.killFile ? { killFile: s.killFile } : {}),
        ...(s.onStatus ? { onStatus: s.onStatus } : {}),
        ...(s.observer ? { observer: s.observer } : {}),
        ...(s.config.tradeFromMs !== undefined ? { tradeFromMs: s.config.tradeFromMs } : {}),
        ...(s.marketFeed ? { marketFeed: s.marketFeed } : {}),
      }),
    );
  }
  return portfolio;
}
