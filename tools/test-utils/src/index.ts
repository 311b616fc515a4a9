// Where tests find real market data and recorded Bybit messages.
//
// TAT_DATA_DIR (default ../shared/data beside the repository) holds candles/; TAT_FIXTURES_DIR
// (default ../shared/fixtures) holds bybit/. Where they are absent (a user's clone) tests that
// need them skip with a printed reason; with TAT_REQUIRE_DATA=1 (set by .ci/run) a missing
// folder is an error instead, so CI never skips them silently.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function resolveDir(envName: string, fallback: string): string | null {
  const dir = process.env[envName] ? path.resolve(process.env[envName]!) : path.resolve(repoRoot, fallback);
  if (existsSync(dir)) return dir;
  if (process.env.TAT_REQUIRE_DATA === '1') {
    throw new Error(`${envName}: ${dir} does not exist, and TAT_REQUIRE_DATA=1 forbids skipping the tests that need it`);
  }
  return null;
}

/** The folder with candles/ (real exchange data), or null where it is absent. */
export const dataDir: string | null = resolveDir('TAT_DATA_DIR', '../shared/data');
/** The folder with bybit/ (recorded Bybit API messages), or null where it is absent. */
export const fixturesDir: string | null = resolveDir('TAT_FIXTURES_DIR', '../shared/fixtures');

const warned = new Set<string>();
function warnOnce(what: string): void {
  if (warned.has(what)) return;
  warned.add(what);
  console.warn(`[skip] ${what} not found: set TAT_DATA_DIR / TAT_FIXTURES_DIR to run the tests that need it`);
}

/** Path of a candle file such as 'bybit_BTCUSDT_1h.csv', or null (after a printed reason) if absent. */
export function candleFile(name: string): string | null {
  if (!dataDir) {
    warnOnce('real data folder');
    return null;
  }
  const p = path.join(dataDir, 'candles', name);
  if (existsSync(p)) return p;
  if (process.env.TAT_REQUIRE_DATA === '1') throw new Error(`candle file ${p} is missing`);
  warnOnce(p);
  return null;
}

/** Path of a recorded Bybit message such as 'ws_kline.json', or null (after a printed reason). */
export function bybitFixture(name: string): string | null {
  if (!fixturesDir) {
    warnOnce('fixtures folder');
    return null;
  }
  const p = path.join(fixturesDir, 'bybit', name);
  if (existsSync(p)) return p;
  if (process.env.TAT_REQUIRE_DATA === '1') throw new Error(`fixture ${p} is missing`);
  warnOnce(p);
  return null;
}

/** True when real data is present; use as `describe.skipIf(!hasRealData)`. */
export const hasRealData: boolean = dataDir !== null && existsSync(path.join(dataDir, 'candles'));
export const hasFixtures: boolean = fixturesDir !== null && existsSync(path.join(fixturesDir, 'bybit'));
if (!hasRealData) warnOnce('real data folder (TAT_DATA_DIR)');

/** A TCP port free on 127.0.0.1 right now (the OS picks it; the probe socket is closed before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export { maxAbsDiff, tensorMaxAbsDiff } from './max-abs-diff.js';
export type { TensorLike } from './max-abs-diff.js';
export { alterAfter, type CandleColumnsLike } from './alter-after.js';
