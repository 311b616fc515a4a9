import { describe, expect, it } from 'vitest';
import { candleFile } from '@task-agnostic/test-utils';
import { feedFromCsv, feedFromSynthetic } from './feeds.js';

describe('simulator feeds', () => {
  const file = candleFile('bybit_ETHUSDT_1d.csv');
  it.skipIf(!file)('from a CSV: symbol and interval from the file name', async () => {
    const f = await feedFromCsv(file!);
    expect(f.symbol).toBe('ETHUSDT');
    expect(f.interval).toBe('1d');
    expect(f.candles.length).toBeGreaterThan(1000);
  });
  it('from the synthetic market; an unnamed CSV needs symbol and interval', async () => {
    const f = feedFromSynthetic({ bars: 100, seed: 3, symbol: 'SYNUSDT', interval: '5m' });
    expect(f).toMatchObject({ symbol: 'SYNUSDT', interval: '5m' });
    expect(f.candles.length).toBe(100);
    await expect(feedFromCsv('/nonexistent/prices.csv')).rejects.toMatchObject({ field: 'symbol' });
  });
});
