/**
 * The weights file: every variable's float32 values back to back (little-endian), described by a
 * manifest (group, index, name, shape, byte offset) and a sha256, so a truncated or altered file
 * fails with a message that says what is wrong. Written with node:fs, not tfjs's IO handlers.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { ArtifactError } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import { z } from 'zod/v3';

export const weightEntrySchema = z
  .object({
    /** 'encoder' or 'head:<taskId>'. */
    group: z.string().min(1),
    /** Position of the variable in its group's `variables` list. */
    index: z.number().int().min(0),
    /** The tf.Variable name when saved (informational: tfjs makes names unique per process). */
    name: z.string(),
    shape: z.array(z.number().int().min(0)),
    dtype: z.literal('float32'),
    /** Byte offset in the weights file. */
    offset: z.number().int().min(0),
  })
  .strict();

export const weightsManifestSchema = z
  .object({
    file: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a plain file name inside the artifact folder'),
    byteLength: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
    entries: z.array(weightEntrySchema),
  })
  .strict();

export type WeightEntry = z.infer<typeof weightEntrySchema>;
export type WeightsManifest = z.infer<typeof weightsManifestSchema>;

export interface VariableGroup {
  readonly group: string;
  readonly variables: readonly tf.Variable[];
  /** Stable names parallel to `variables`; saved and checked on load where given. */
  readonly names?: readonly string[];
}

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new ArtifactError('model artifacts are little-endian; this big-endian host is not supported');
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Serialises the variables of every group, in order, into one buffer and its manifest. */
export function encodeWeights(groups: readonly VariableGroup[], file = 'weights.bin'): { bytes: Uint8Array; manifest: WeightsManifest } {
  assertLittleEndian();
  const entries: WeightEntry[] = [];
  let offset = 0;
  for (const { group, variables, names } of groups) {
    for (const [index, v] of variables.entries()) {
      if (v.dtype !== 'float32') throw new ArtifactError(`variable '${v.name}' of ${group} is ${v.dtype}; only float32 weights are saved`);
      entries.push({ group, index, name: names?.[index] ?? v.name, shape: [...v.shape], dtype: 'float32', offset });
      offset += elementCount(v.shape) * 4;
    }
  }
  const bytes = new Uint8Array(offset);
  const floats = new Float32Array(bytes.buffer);
  let k = 0;
  for (const { variables } of groups) {
    for (const v of variables) {
      const values = v.dataSync() as Float32Array;
      floats.set(values, entries[k]!.offset / 4);
      k++;
    }
  }
  return { bytes, manifest: { file, byteLength: bytes.byteLength, sha256: sha256Hex(bytes), entries } };
}

/**
 * Checks the bytes against the manifest (length, checksum, bounds) and returns each group's
 * arrays in variable order. Every failure is an ArtifactError naming the problem.
 */
export function decodeWeights(bytes: Uint8Array, manifest: WeightsManifest): Map<string, Float32Array[]> {
  assertLittleEndian();
  if (bytes.byteLength !== manifest.byteLength) {
    const hint = bytes.byteLength < manifest.byteLength ? ' (truncated?)' : ' (extra bytes?)';
    throw new ArtifactError(`${manifest.file} is ${bytes.byteLength} bytes but model.json says ${manifest.byteLength}${hint}`);
  }
  const digest = sha256Hex(bytes);
  if (digest !== manifest.sha256) {
    throw new ArtifactError(`${manifest.file} is corrupted: its sha256 is ${digest} but model.json says ${manifest.sha256}`);
  }
  // Copy into an aligned buffer: a Buffer read from disk may start at any byte offset.
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  const floats = new Float32Array(aligned.buffer);
  const groups = new Map<string, Float32Array[]>();
  for (const e of manifest.entries) {
    const n = elementCount(e.shape);
    if (e.offset % 4 !== 0 || e.offset + n * 4 > bytes.byteLength) {
      throw new ArtifactError(`weight ${e.group}[${e.index}] ('${e.name}') at byte ${e.offset} with ${n} floats lies outside ${manifest.file} (${bytes.byteLength} bytes)`);
    }
    const list = groups.get(e.group) ?? [];
    if (list[e.index] !== undefined) throw new ArtifactError(`weight ${e.group}[${e.index}] appears twice in the manifest`);
    list[e.index] = floats.subarray(e.offset / 4, e.offset / 4 + n);
    groups.set(e.group, list);
  }
  for (const [group, list] of groups) {
    for (let i = 0; i < list.length; i++) if (!list[i]) throw new ArtifactError(`weight ${group}[${i}] is missing from the manifest`);
  }
  return groups;
}

/**
 * Assigns saved values to freshly built variables, checking count and shapes first so nothing
 * is half-assigned. `shapes` are the manifest shapes of the same group.
 */
export function assignWeights(
  { group, variables, names }: VariableGroup,
  values: readonly Float32Array[] | undefined,
  entries: readonly WeightEntry[],
): void {
  const byIndex = new Map(entries.filter((e) => e.group === group).map((e) => [e.index, e] as const));
  const saved = values ?? [];
  if (saved.length !== variables.length) {
    throw new ArtifactError(`${group} has ${saved.length} weight tensors in the artifact but ${variables.length} in the model built from its config`);
  }
  for (const [i, v] of variables.entries()) {
    const entry = byIndex.get(i);
    const shape = entry?.shape ?? [];
    if (names && entry && entry.name !== names[i]) {
      throw new ArtifactError(`${group} weight ${i} is '${entry.name}' in the artifact but '${names[i]}' in the model built from its config`);
    }
    if (shape.length !== v.shape.length || shape.some((d, j) => d !== v.shape[j])) {
      throw new ArtifactError(
        `${group} weight ${i} ('${names?.[i] ?? v.name}') has shape [${shape.join(',')}] in the artifact but [${v.shape.join(',')}] in the model built from its config`,
      );
    }
  }
  for (const [i, v] of variables.entries()) {
    const t = tf.tensor(saved[i]!, v.shape, 'float32');
    v.assign(t);
    t.dispose();
  }
}
