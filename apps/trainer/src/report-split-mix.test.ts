import { describe, expect, it } from 'vitest';
import { splitMixSection } from './report-split-mix.js';
import { splitClassMix, type MixSplit } from './split-mix.js';

const split = (labels: number[], series: number[]): MixSplit => ({ n: labels.length, targets: [Float32Array.from(labels)], targetDims: [1], seriesIds: Int32Array.from(series) });

describe('splitMixSection', () => {
  // training 50/50 on both series; validation: A all 'calm' (TV 0.5), B 50/50 (TV 0)
  const mix = splitClassMix(
    { train: split([0, 1, 0, 1], [0, 0, 1, 1]), val: split([0, 0, 0, 1], [0, 0, 1, 1]), test: split([1], [1]) },
    [{ id: 'risk', index: 0, classes: ['calm', '<wild>'] }],
    ['A', 'B'],
  );

  it('shows each split pooled and per series, flagging distances above the threshold', () => {
    const html = splitMixSection(mix, 0.1);
    expect(html).toContain('<h2>Split class mix</h2>');
    // pooled validation 75% / 25%: TV 0.25, flagged; test 0% / 100%: TV 0.5, flagged
    expect(html).toContain('<tr><td>validation</td><td>4</td><td>75.0%</td><td>25.0%</td><td class="neg">0.250</td></tr>');
    expect(html).toContain('<tr><td>test</td><td>1</td><td>0.0%</td><td>100.0%</td><td class="neg">0.500</td></tr>');
    expect(html).toContain('risk per series (mean TV validation vs training 0.250)');
    expect(html).toContain('<tr><td>B</td><td>50.0% / 50.0%</td><td>50.0% / 50.0%</td><td>0.0% / 100.0%</td><td>0.000</td><td class="neg">0.500</td></tr>');
    // class names are escaped
    expect(html).toContain('&lt;wild&gt;');
    expect(html).not.toContain('<wild>');
  });

  it('does not flag at or below the threshold, and is empty without a class mix', () => {
    expect(splitMixSection(mix, 0.5, 0.5)).not.toContain('class="neg"');
    // the per-series rows have their own threshold
    const looseSeries = splitMixSection(mix, 0.1, 0.5);
    expect(looseSeries).toContain('<td class="neg">0.250</td></tr>');
    expect(looseSeries).toContain('<tr><td>B</td><td>50.0% / 50.0%</td><td>50.0% / 50.0%</td><td>0.0% / 100.0%</td><td>0.000</td><td>0.500</td></tr>');
    expect(splitMixSection(undefined)).toBe('');
    expect(splitMixSection([])).toBe('');
  });
});
