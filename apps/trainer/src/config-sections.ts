/**
 * Every section of a trainer config validated by the package that owns it (model, features, tasks,
 * training, pre-training, fusion, risk, backtest), up front: a typo anywhere is a ConfigError
 * naming the field before the run touches the disk or loads a candle, not after an hour of
 * training (or, for fusion and risk, at the first backtest).
 */
import { ConfigError, isConfigError } from '@task-agnostic/core';
import { parseBacktestConfig } from '@task-agnostic/backtest';
import { parseFeatureSetConfig } from '@task-agnostic/features';
import { parseConsistencyFusionConfig, parseWeightedFusionConfig } from '@task-agnostic/fusion';
import { getTask } from '@task-agnostic/heads';
import { parseModelConfig } from '@task-agnostic/model';
import { checkHeadRefitTasks, parseHeadRefitConfig, parsePretrainConfig, parseTrainingConfig } from '@task-agnostic/training';
import type { TrainerConfig } from './config.js';
import { riskConfigOf } from './risk-config.js';
import { modelConfigOf } from './train-run.js';

export function validateConfigSections(cfg: TrainerConfig, source = 'config'): void {
  const check = (section: string, fn: () => unknown): void => {
    try {
      fn();
    } catch (err) {
      const e = err as Error & { field?: string };
      const field = isConfigError(err) ? e.field : undefined;
      // the package's message names the field; say which config file it is in and which section
      const where = field && (field === section || field.startsWith(`${section}.`)) ? '' : `${section}: `;
      throw new ConfigError(`${source}: ${where}${e.message}`, field ?? section, { cause: err });
    }
  };
  check('model', () => parseModelConfig(modelConfigOf(cfg)));
  check('model.features', () => cfg.model.features === undefined || parseFeatureSetConfig(cfg.model.features));
  cfg.model.tasks.forEach((t, i) => check(`model.tasks.${i}`, () => (typeof t === 'string' ? getTask(t) : getTask(t.id, t.config))));
  check('training', () => parseTrainingConfig({ ...cfg.training, seed: cfg.seed }));
  if (cfg.pretrain) check('pretrain', () => parsePretrainConfig({ seed: cfg.seed, ...cfg.pretrain }));
  const refit = cfg.refitHeads;
  if (refit) check('refitHeads', () => checkHeadRefitTasks(parseHeadRefitConfig(refit).tasks, cfg.model.tasks.map((t) => (typeof t === 'string' ? t : t.id))));
  check('fusion.config', () => (cfg.fusion.method === 'weighted' ? parseWeightedFusionConfig(cfg.fusion.config) : parseConsistencyFusionConfig(cfg.fusion.config)));
  check('risk', () => riskConfigOf(cfg, cfg.data.interval));
  check('backtest', () => parseBacktestConfig({ ...cfg.backtest, symbol: 'CHECK', interval: cfg.data.interval }));
  if (cfg.evaluate.transfer) check('evaluate.transferTask', () => getTask(cfg.evaluate.transferTask));
}
