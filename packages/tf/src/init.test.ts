import { describe, expect, it } from 'vitest';
import { computeFans, glorotUniform } from './init.js';
import { tf } from './tfjs.js';

describe('glorotUniform', () => {
  it('computes Keras fans (dense, conv kernel, other ranks)', () => {
    expect(computeFans([8, 4])).toEqual([8, 4]);
    expect(computeFans([3, 8, 4])).toEqual([24, 12]); // kernel 3, in 8, out 4: receptive field 3
    expect(computeFans([16])).toEqual([4, 4]);
  });

  it('draws within sqrt(6 / (fanIn + fanOut)), seeded and repeatable', async () => {
    await tf.setBackend('cpu');
    const a = glorotUniform([40, 10], 7);
    const b = glorotUniform([40, 10], 7);
    const limit = Math.sqrt(6 / 50); // hand-computed: fanIn 40 + fanOut 10
    const va = a.dataSync();
    expect(Array.from(va)).toEqual(Array.from(b.dataSync()));
    let max = 0;
    for (const v of va) max = Math.max(max, Math.abs(v));
    expect(max).toBeLessThanOrEqual(limit);
    expect(max).toBeGreaterThan(0.9 * limit); // 400 draws reach the edge of the range
    // The same stream as the uniform op with that limit and seed (what tfjs-layers' initialiser returns).
    expect(Array.from(va)).toEqual(Array.from(tf.randomUniform([40, 10], -limit, limit, 'float32', 7).dataSync()));
    tf.dispose([a, b]);
  });
});
