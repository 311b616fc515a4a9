export { buildEncoder } from './build.js';
export {
  parseEncoderConfig,
  ENCODER_TYPES,
  EncoderConfigSchema,
  TransformerConfigSchema,
  CnnConfigSchema,
  MoeConfigSchema,
  MlpConfigSchema,
} from './config.js';
export type { EncoderConfig, EncoderType, TransformerConfig, CnnConfig, MoeConfig, MlpConfig } from './config.js';
export type { Encoder, ApplyOptions } from './encoder.js';
export { encoderPreset, PRESET_NAMES } from './presets.js';
export type { PresetName } from './presets.js';
export { topKMask, topKGates, loadBalanceLoss, expertUsage } from './routing.js';
export type { ExpertUsage } from './routing.js';
export { applyTemporalConv, makeTemporalConv } from './temporal-conv.js';
export { applyDenseOverParts } from './layers.js';
export type { TemporalConvParams } from './temporal-conv.js';
