/**
 * The trainer's calibration step: every head calibrated on the validation split with the config's
 * softmax method ('crossfit' by default), on the validation windows training used or, with
 * `calibrateStride`, on every n-th window of the same validation range (more rows, same period).
 * The test windows scored before and after stay those of the run's dataset.
 */
import { calibrateModel, datasetForModel, type CalibrationReport, type MultiTaskDataset } from '@task-agnostic/training';
import type { TaskAgnosticModel } from '@task-agnostic/model';
import { separateCalibrationStride, type TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';

/** Calibrates `model` per the config; undefined (and the identity) when calibration is off. */
export function calibrateRun(
  cfg: TrainerConfig,
  model: TaskAgnosticModel,
  data: readonly SymbolData[],
  ds: MultiTaskDataset,
  /** The run's dataset options (train-run's datasetOptions(cfg)). */
  datasetOptions: Record<string, unknown>,
): CalibrationReport | undefined {
  if (cfg.calibrate === false) {
    model.setCalibration({});
    return undefined;
  }
  const stride = separateCalibrationStride(cfg);
  const fitOn =
    stride !== undefined
      ? datasetForModel(
          model,
          data.map((d) => ({ symbol: d.symbol, candles: d.candles })),
          { ...datasetOptions, valStride: stride },
          ds.boundaries,
        ).val
      : undefined;
  return calibrateModel(model, ds, { softmax: cfg.calibrate, blend: cfg.blend, classMix: cfg.classMix, blendRule: cfg.blendRule, ...(fitOn ? { fitOn } : {}) });
}
