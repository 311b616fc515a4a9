/**
 * Per-epoch training checkpoints: every variable, the optimiser state, the harmoniser / schedule /
 * early-stopping state, the RNG position and the epoch, so a run that crashes resumes and ends
 * with exactly the weights of an uninterrupted run.
 *
 * Layout: <dir>/checkpoint.bin (float32 blocks, little-endian) and <dir>/checkpoint.json (the
 * manifest and small state). Both are written to temporary names first and renamed, the JSON
 * last, so a crash while writing leaves the previous checkpoint intact.
 *
 * RNG: every random draw of the loop comes from a child stream derived from (seed, epoch) or
 * (seed, global step), so the RNG state to save is the seed and the position (epoch, step).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError } from '@task-agnostic/core';

export const CHECKPOINT_VERSION = 1;

export interface TensorBlock {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface CheckpointMeta {
  readonly version: number;
  /** The last completed epoch (0-based). */
  readonly epoch: number;
  readonly globalStep: number;
  readonly rng: { readonly seed: number; readonly epoch: number; readonly step: number };
  /** Any JSON state (harmoniser, schedule, early stopping, history, phase...). */
  readonly state: Record<string, unknown>;
  readonly groups: Record<string, { name: string; shape: number[]; offset: number; length: number }[]>;
  readonly byteLength: number;
}

export interface Checkpoint {
  readonly meta: CheckpointMeta;
  /** Blocks by group name (e.g. 'variables', 'adam.m', 'adam.v', 'best'). */
  readonly groups: Record<string, TensorBlock[]>;
}

export async function saveCheckpoint(
  dir: string,
  info: Omit<CheckpointMeta, 'version' | 'groups' | 'byteLength'>,
  groups: Record<string, readonly TensorBlock[]>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  let total = 0;
  const manifest: CheckpointMeta['groups'] = {};
  for (const [g, blocks] of Object.entries(groups)) {
    manifest[g] = blocks.map((b) => {
      const e = { name: b.name, shape: [...b.shape], offset: total, length: b.data.length };
      total += b.data.length;
      return e;
    });
  }
  const all = new Float32Array(total);
  for (const [g, blocks] of Object.entries(groups)) blocks.forEach((b, i) => all.set(b.data, manifest[g]![i]!.offset));
  const meta: CheckpointMeta = { version: CHECKPOINT_VERSION, ...info, groups: manifest, byteLength: all.byteLength };
  const bin = path.join(dir, 'checkpoint.bin');
  const json = path.join(dir, 'checkpoint.json');
  await writeFile(bin + '.tmp', new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
  await writeFile(json + '.tmp', JSON.stringify(meta));
  await rename(bin + '.tmp', bin);
  await rename(json + '.tmp', json);
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(path.join(dir, 'checkpoint.json')) && existsSync(path.join(dir, 'checkpoint.bin'));
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const json = path.join(dir, 'checkpoint.json');
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(await readFile(json, 'utf8')) as CheckpointMeta;
  } catch (err) {
    throw new ArtifactError(`cannot read checkpoint ${json}: ${(err as Error).message}`, { cause: err });
  }
  if (meta.version !== CHECKPOINT_VERSION) throw new ArtifactError(`checkpoint ${json} has version ${meta.version}, this package reads ${CHECKPOINT_VERSION}`);
  const buf = await readFile(path.join(dir, 'checkpoint.bin'));
  if (buf.byteLength !== meta.byteLength) {
    throw new ArtifactError(`checkpoint.bin in ${dir} holds ${buf.byteLength} bytes, its manifest says ${meta.byteLength}: the file is truncated or from another run`);
  }
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const groups: Record<string, TensorBlock[]> = {};
  for (const [g, entries] of Object.entries(meta.groups)) {
    groups[g] = entries.map((e) => ({ name: e.name, shape: e.shape, data: all.slice(e.offset, e.offset + e.length) }));
  }
  return { meta, groups };
}
