import { describe, expect, it } from 'vitest';
import { differenceVerdict, versusSummary } from './strategies.js';

describe('the model against vol-targeted buy-and-hold, summarised over symbols', () => {
  it('counts estimates above 0 and intervals that exclude 0 on either side', () => {
    const d = [
      { estimate: 0.5, lo: 0.1, hi: 0.9 }, // above, better
      { estimate: 0.2, lo: -0.3, hi: 0.7 }, // above, not significant
      { estimate: -1, lo: -1.5, hi: -0.2 }, // worse
      { estimate: -0.1, lo: -0.6, hi: 0.4 },
      null, // no vol-targeted run
    ];
    expect(d.map((x) => (x ? differenceVerdict(x) : null))).toEqual(['better', 'no significant difference', 'worse', 'no significant difference', null]);
    expect(versusSummary(d)).toBe(
      'model vs vol-targeted buy-and-hold on net Sharpe: above on 2 of 4 symbols; significantly better (90% CI above 0) on 1, significantly worse on 1',
    );
  });
});
