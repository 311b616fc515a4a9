/** Wiring: a model, fusion, a risk gate, a venue and the journal into one TradingEngine per symbol. */
import { randomBytes } from 'node:crypto';
import { consistencyFusion, weightedSignalFusion } from '@task-agnostic/fusion';
import { StreamingPredictor, type TaskAgnosticModel } from '@task-agnostic/model';
import { RiskGate } from '@task-agnostic/risk';
import { INTERVAL_MS, type SymbolId } from '@task-agnostic/core';
import type { Logger } from 'pino';
import { traderRiskConfig, type TraderConfig } from './config.js';
import { TradingEngine, type CandlePredictor, type Fuse } from './engine.js';
import type { Journal } from './journal.js';
import { PaperVenue, type Venue } from './venue.js';

/** The fusion function a config names. */
export function fusionOf(cfg: Pick<TraderConfig, 'fusion' | 'fusionConfig'>): Fuse {
  const config = cfg.fusionConfig as Parameters<typeof consistencyFusion>[1];
  if (cfg.fusion === 'weighted') return (o, ctx) => weightedSignalFusion(o, config as Parameters<typeof weightedSignalFusion>[1], ctx);
  return (o, ctx) => consistencyFusion(o, config, ctx);
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
}

export function createEngine(s: EngineSetup): TradingEngine {
  const predictor = s.predictor ?? (s.model ? new StreamingPredictor(s.model) : undefined);
  if (!predictor) throw new Error('createEngine needs a model or a predictor');
  const venue = s.venue ?? new PaperVenue(s.symbol, s.config.account, INTERVAL_MS[s.config.interval]);
  return new TradingEngine({
    symbol: s.symbol,
    interval: s.config.interval,
    journal: s.journal,
    venue,
    predictor,
    fuse: fusionOf(s.config),
    gate: new RiskGate(traderRiskConfig(s.config)),
    runTag: runTagOf(s.journal, s.runTag),
    logger: s.logger,
    statusEvery: s.config.statusEvery,
    ...(s.killFile ? { killFile: s.killFile } : {}),
    ...(s.onStatus ? { onStatus: s.onStatus } : {}),
    ...(s.config.tradeFromMs !== undefined ? { tradeFromMs: s.config.tradeFromMs } : {}),
  });
}
