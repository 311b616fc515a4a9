import { describe, expect, it } from 'vitest';
import { ConfigError } from '@task-agnostic/core';
import { parseEncoderConfig, ENCODER_TYPES } from './config.js';
import { encoderPreset, PRESET_NAMES } from './presets.js';
import { buildEncoder } from './build.js';

describe('encoder config', () => {
  it('fills defaults and round-trips through JSON for every preset and type', () => {
    for (const name of PRESET_NAMES)
      for (const type of ENCODER_TYPES) {
        const c = encoderPreset(name, type);
        expect(c.type).toBe(type);
        expect(parseEncoderConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
      }
    const t = parseEncoderConfig({ type: 'transformer' });
    expect(t).toMatchObject({ type: 'transformer', dModel: 64, numHeads: 4, numLayers: 2, patchLen: 1 });
  });

  it('the paper preset has the source design sizes', () => {
    expect(encoderPreset('paper')).toMatchObject({ dModel: 256, numLayers: 6, numHeads: 8, ffDim: 1024, dropout: 0.1, outputDim: 256 });
  });

  it('builds the default and paper transformers with the parameter counts of their formulas', () => {
    // input projection (P*F -> d), per layer: 2 norms, QKV (d -> 3d), output (d -> d), ff (d -> ff -> d),
    // final norm, output projection (d -> D); every dense has a bias.
    const count = (p: number, f: number, d: number, layers: number, ff: number, out: number) =>
      p * f * d + d + layers * (4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * ff + ff) + (ff * d + d)) + 2 * d + d * out + out;
    const def = buildEncoder(encoderPreset('default'), [96, 32], 1);
    expect(def.paramCount()).toBe(count(8, 32, 64, 2, 128, 64));
    expect(def.paramCount()).toBe(87680);
    def.dispose();
    const paper = buildEncoder(encoderPreset('paper'), [96, 64], 1);
    expect(paper.paramCount()).toBe(count(1, 64, 256, 6, 1024, 256));
    expect(paper.variables.length).toBe(2 + 6 * 12 + 2 + 2);
    paper.dispose();
  });

  it('rejects bad configs with errors that name the field', () => {
    const bad: [unknown, RegExp][] = [
      [null, /encoder config must be an object/],
      [{ type: 'rnn' }, /encoder\.type must be one of transformer, cnn, moe, mlp/],
      [{ type: 'transformer', dModel: 30, numHeads: 4 }, /encoder\.numHeads: dModel must be divisible by numHeads/],
      [{ type: 'transformer', numLayers: 0 }, /encoder\.numLayers/],
      [{ type: 'moe', numExperts: 2, topK: 3 }, /encoder\.topK: topK must be <= numExperts/],
      [{ type: 'cnn', kernelSize: 4 }, /encoder\.kernelSize: kernelSize must be odd/],
      [{ type: 'mlp', hiddenDims: [] }, /encoder\.hiddenDims/],
      [{ type: 'mlp', dropout: 1 }, /encoder\.dropout/],
      [{ type: 'mlp', bogus: 1 }, /encoder: Unrecognized key.*bogus/],
    ];
    for (const [json, re] of bad) {
      expect(() => parseEncoderConfig(json)).toThrow(ConfigError);
      expect(() => parseEncoderConfig(json)).toThrow(re);
    }
    expect(() => buildEncoder(encoderPreset('tiny'), [0, 5], 1)).toThrow(/inputShape/);
    expect(() => encoderPreset('huge' as 'tiny')).toThrow(/unknown encoder preset 'huge'/);
  });
});
