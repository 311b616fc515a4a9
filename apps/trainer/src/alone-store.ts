/**
 * The models `trainer lso` trains on one held-out symbol alone, kept in the run folder
 * (<run>/alone/<SYMBOL>/: model/ and alone.json) so that a later `trainer lso` (e.g. after the
 * evaluation changed) scores the same models again without retraining them.
 *
 * alone.json records what the model was trained with (window stride, epoch cap) and what it cost;
 * a saved model is reused only when the request is the same, otherwise a clear error says what
 * differs (or it is replaced when asked).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod/v3';
import { DataError } from '@task-agnostic/core';
import { loadModel, saveModel, type TaskAgnosticModel } from '@task-agnostic/model';

/** What an alone model was trained with and what it cost (alone.json). */
export interface AloneRecord {
  readonly symbol: string;
  /** Window stride of its training data. */
  readonly stride: number;
  /** The epoch cap it was given (early stopping may have ended it sooner). */
  readonly maxEpochs: number;
  readonly trainWindows: number;
  /** Epochs run. */
  readonly epochs: number;
  /** Optimiser steps: epochs x batches. */
  readonly steps: number;
  /** Wall and process CPU seconds of its pre-training and training. */
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly createdAt: string;
}

const aloneRecordSchema = z
  .object({
    symbol: z.string().min(1),
    stride: z.number().int().min(1),
    maxEpochs: z.number().int().min(1),
    trainWindows: z.number().int().min(0),
    epochs: z.number().int().min(0),
    steps: z.number().int().min(0),
    seconds: z.number().min(0),
    cpuSeconds: z.number().min(0),
    createdAt: z.string(),
  })
  .strict();

/** The folder of one symbol's alone model in a run folder. */
export function aloneDir(runDir: string, symbol: string): string {
  return path.join(runDir, 'alone', symbol);
}

/** Saves an alone model and its record into `dir` (model/ and alone.json). */
export async function saveAloneModel(dir: string, model: TaskAgnosticModel, record: AloneRecord): Promise<void> {
  await mkdir(dir, { recursive: true });
  await saveModel(model, path.join(dir, 'model'), { training: null });
  await writeFile(path.join(dir, 'alone.json'), JSON.stringify(record, null, 2) + '\n');
}

/**
 * The alone model saved in `dir`, when there is one trained with the same stride and epoch cap:
 * null when the folder holds none; a DataError naming both settings when it holds one trained
 * otherwise (unless `replace`, then null: the caller trains and overwrites it) or when alone.json
 * is malformed.
 */
export async function loadAloneModel(
  dir: string,
  want: { readonly stride: number; readonly maxEpochs: number },
  o: { readonly replace?: boolean } = {},
): Promise<{ model: TaskAgnosticModel; record: AloneRecord } | null> {
  const file = path.join(dir, 'alone.json');
  if (!existsSync(file) || !existsSync(path.join(dir, 'model', 'model.json'))) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new DataError(`${file} is not valid JSON (${(err as Error).message}): remove ${dir} to retrain that alone model`);
  }
  const parsed = aloneRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DataError(`${file} is malformed: ${issue.path.join('.') || '(root)'}: ${issue.message}; remove ${dir} to retrain that alone model`);
  }
  const record = parsed.data;
  if (record.stride !== want.stride || record.maxEpochs !== want.maxEpochs) {
    if (o.replace) return null;
    throw new DataError(
      `${dir} holds an alone model trained with stride ${record.stride} and an epoch cap of ${record.maxEpochs}, ` +
        `but this lso asks stride ${want.stride} and a cap of ${want.maxEpochs}: pass --retrain-alone to replace it, or keep the flags it was trained with`,
    );
  }
  return { model: await loadModel(path.join(dir, 'model')), record };
}
