/**
 * Named encoder presets. `tiny` is for tests, `default` is the main job's encoder on 2 CPU cores
 * with wasm (patching and pooled attention keep the batched attention products small: on wasm
 * only plain 2-D products are fast), `paper` is the source design's size (chapter 87,
 * TransformerEncoderConfig::default: model_dim 256, 6 layers, 8 heads, ff_dim 1024, dropout 0.1,
 * embedding_dim 256; for machines with tfjs-node or a GPU).
 */
import { ConfigError } from '@task-agnostic/core';
import { type EncoderConfig, type EncoderType, ENCODER_TYPES, parseEncoderConfig } from './config.js';

export type PresetName = 'tiny' | 'default' | 'paper';
export const PRESET_NAMES: readonly PresetName[] = ['tiny', 'default', 'paper'];

const PRESETS: Record<PresetName, Record<EncoderType, Record<string, unknown>>> = {
  tiny: {
    transformer: { type: 'transformer', dModel: 16, numHeads: 2, numLayers: 1, ffDim: 32, dropout: 0, outputDim: 16, patchLen: 4 },
    cnn: { type: 'cnn', channels: 8, kernelSize: 3, dilations: [1, 2, 4], dModel: 16, numHeads: 2, attentionPool: 2, dropout: 0, outputDim: 16 },
    moe: { type: 'moe', dModel: 16, patchLen: 4, numExperts: 3, topK: 2, expertDim: 16, dropout: 0, outputDim: 16, auxLossWeight: 0.01 },
    mlp: { type: 'mlp', hiddenDims: [32, 32], dropout: 0, outputDim: 16, batchNormMomentum: 0.9, l2Normalize: true },
  },
  default: {
    transformer: { type: 'transformer', dModel: 64, numHeads: 4, numLayers: 2, ffDim: 128, dropout: 0.1, outputDim: 64, patchLen: 8 },
    cnn: { type: 'cnn', channels: 64, kernelSize: 3, dilations: [1, 2, 4], dModel: 64, numHeads: 4, attentionPool: 4, dropout: 0.1, outputDim: 64 },
    moe: { type: 'moe', dModel: 64, patchLen: 8, numExperts: 5, topK: 2, expertDim: 128, dropout: 0.1, outputDim: 64, auxLossWeight: 0.01 },
    mlp: { type: 'mlp', hiddenDims: [256, 128], dropout: 0.1, outputDim: 64, batchNormMomentum: 0.9, l2Normalize: true },
  },
  paper: {
    transformer: { type: 'transformer', dModel: 256, numHeads: 8, numLayers: 6, ffDim: 1024, dropout: 0.1, outputDim: 256, patchLen: 1 },
    cnn: { type: 'cnn', channels: 256, kernelSize: 3, dilations: [1, 2, 4], dModel: 256, numHeads: 8, attentionPool: 1, dropout: 0.1, outputDim: 256 },
    moe: { type: 'moe', dModel: 256, patchLen: 4, numExperts: 5, topK: 2, expertDim: 256, dropout: 0.1, outputDim: 256, auxLossWeight: 0.01 },
    mlp: { type: 'mlp', hiddenDims: [512, 256], dropout: 0.1, outputDim: 256, batchNormMomentum: 0.9, l2Normalize: true },
  },
};

/** A validated preset config; `type` defaults to the transformer. */
export function encoderPreset(name: PresetName, type: EncoderType = 'transformer'): EncoderConfig {
  const byType = (PRESETS as Record<string, Record<EncoderType, Record<string, unknown>> | undefined>)[name];
  if (!byType) throw new ConfigError(`unknown encoder preset '${name}': expected ${PRESET_NAMES.join(', ')}`, 'encoder.preset');
  if (!ENCODER_TYPES.includes(type)) throw new ConfigError(`unknown encoder type '${type}'`, 'encoder.type');
  return parseEncoderConfig(byType[type]);
}
