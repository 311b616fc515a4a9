/**
 * Encoder configuration: plain JSON data, discriminated on `type`, validated with zod at the edge.
 * Defaults live here and nowhere else. Numbers from the source design (chapter 87,
 * TransformerEncoderConfig / EncoderConfig defaults) are cited where used; see presets.ts.
 */
import { z } from 'zod/v3';
import { ConfigError } from '@task-agnostic/core';

const posInt = z.number().int().positive();
const dropout = z.number().min(0).lt(1);

export const TransformerConfigSchema = z
  .object({
    type: z.literal('transformer'),
    /** Model width (source design: model_dim 256). */
    dModel: posInt.default(64),
    /** Attention heads; must divide dModel (source: 8). */
    numHeads: posInt.default(4),
    /** Encoder layers (source: 6). */
    numLayers: posInt.default(2),
    /** Feed-forward width (source: ff_dim 1024). */
    ffDim: posInt.default(128),
    /** Dropout on attention/feed-forward outputs (source: 0.1). */
    dropout: dropout.default(0.1),
    /** Embedding width D (source: embedding_dim 256). */
    outputDim: posInt.default(64),
    /** PatchTST-style patching: P consecutive steps become one token (1 = no patching); T is left-padded to a multiple of P. */
    patchLen: posInt.default(1),
  })
  .strict()
  .refine((c) => c.dModel % c.numHeads === 0, { message: 'dModel must be divisible by numHeads', path: ['numHeads'] });

export const CnnConfigSchema = z
  .object({
    type: z.literal('cnn'),
    /** Channels of every temporal convolution. */
    channels: posInt.default(64),
    /** Kernel size of the temporal convolutions (odd: symmetric 'same' padding). */
    kernelSize: posInt.default(3).refine((k) => k % 2 === 1, 'kernelSize must be odd'),
    /** One stacked convolution per dilation: local, mid and long range (source "Architecture 1"). */
    dilations: z.array(posInt).min(1).default([1, 2, 4]),
    /** Width of the attention block fed by the concatenated multi-scale features. */
    dModel: posInt.default(64),
    /** Attention heads (0 = no attention block); must divide dModel. */
    numHeads: z.number().int().min(0).default(4),
    /** Average-pool the time axis by this stride before attention (1 = attend over all T steps). */
    attentionPool: posInt.default(1),
    dropout: dropout.default(0.1),
    outputDim: posInt.default(64),
  })
  .strict()
  .refine((c) => c.numHeads === 0 || c.dModel % c.numHeads === 0, { message: 'dModel must be divisible by numHeads', path: ['numHeads'] });

export const MoeConfigSchema = z
  .object({
    type: z.literal('moe'),
    /** Token width: patches of `patchLen` steps are projected to dModel, then pooled. */
    dModel: posInt.default(64),
    patchLen: posInt.default(8),
    /** Number of experts K (issue 4: default 5). */
    numExperts: posInt.default(5),
    /** Experts used per sample (issue 4: default k = 2). */
    topK: posInt.default(2),
    /** Hidden width of every expert MLP (source: expert_dim). */
    expertDim: posInt.default(128),
    dropout: dropout.default(0.1),
    outputDim: posInt.default(64),
    /** Weight of the Switch/GShard load-balancing loss returned by auxLoss() (Switch Transformer: 0.01). */
    auxLossWeight: z.number().min(0).default(0.01),
  })
  .strict()
  .refine((c) => c.topK <= c.numExperts, { message: 'topK must be <= numExperts', path: ['topK'] });

export const MlpConfigSchema = z
  .object({
    type: z.literal('mlp'),
    /** Hidden widths; each layer is dense -> batch norm -> ReLU (+ residual where in == out). */
    hiddenDims: z.array(posInt).min(1).default([256, 128]),
    dropout: dropout.default(0.1),
    outputDim: posInt.default(64),
    /** Moving-average momentum of the batch-norm statistics. */
    batchNormMomentum: z.number().gt(0).lt(1).default(0.9),
    /** L2-normalise the embedding (source design's MLP encoder). */
    l2Normalize: z.boolean().default(true),
  })
  .strict();

export const EncoderConfigSchema = z.discriminatedUnion('type', [
  TransformerConfigSchema.innerType(),
  CnnConfigSchema.innerType(),
  MoeConfigSchema.innerType(),
  MlpConfigSchema,
]);

export type TransformerConfig = z.output<typeof TransformerConfigSchema>;
export type CnnConfig = z.output<typeof CnnConfigSchema>;
export type MoeConfig = z.output<typeof MoeConfigSchema>;
export type MlpConfig = z.output<typeof MlpConfigSchema>;
export type EncoderConfig = TransformerConfig | CnnConfig | MoeConfig | MlpConfig;
export type EncoderType = EncoderConfig['type'];
export const ENCODER_TYPES: readonly EncoderType[] = ['transformer', 'cnn', 'moe', 'mlp'];

const BY_TYPE = {
  transformer: TransformerConfigSchema,
  cnn: CnnConfigSchema,
  moe: MoeConfigSchema,
  mlp: MlpConfigSchema,
} as const;

/**
 * Validates an encoder config (e.g. parsed JSON) and fills defaults. Throws ConfigError naming
 * the offending field, e.g. `encoder.numHeads: dModel must be divisible by numHeads`.
 */
export function parseEncoderConfig(json: unknown): EncoderConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError('encoder config must be an object with a "type" field', 'encoder');
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== 'string' || !(type in BY_TYPE)) {
    throw new ConfigError(`encoder.type must be one of ${ENCODER_TYPES.join(', ')} (got ${JSON.stringify(type)})`, 'encoder.type');
  }
  const schema = BY_TYPE[type as EncoderType];
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = ['encoder', ...issue.path].join('.');
    throw new ConfigError(`${field}: ${issue.message}`, field);
  }
  return r.data as EncoderConfig;
}
