// A local Bybit simulator for trying `trader paper|live --base-url` (127.0.0.1 only):
//   node --import tsx apps/trader/scripts/simulator.ts <candles.csv> [--symbol BTCUSDT] [--closed 500] [--bar-ms 100] [--port 0]
// Replays the CSV: `--closed` bars are already closed at start (history), then one bar closes every
// `--bar-ms` ms of wall time. Keys: the simulator's test keys (SIM_API_KEY / SIM_API_SECRET).
import { parseArgs } from 'node:util';
import { readCandlesCsvSync } from '@task-agnostic/core';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET } from '@task-agnostic/bybit/testing';

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
  symbol: { type: 'string', default: 'BTCUSDT' }, closed: { type: 'string', default: '500' },
  'bar-ms': { type: 'string', default: '100' }, port: { type: 'string', default: '0' },
} });
if (!positionals[0]) throw new Error('usage: simulator.ts <candles.csv> [--symbol S] [--closed N] [--bar-ms MS] [--port P]');
const { candles } = readCandlesCsvSync(positionals[0], { interval: '1h' });
const closed = Number(values.closed);
const sim = await new BybitSimulator([{ symbol: values.symbol!, interval: '1h', candles }], { startMs: candles.tsMs[closed]! }).start(Number(values.port));
process.stdout.write(`simulator on ${sim.restUrl} (${candles.length} bars, ${closed} closed; keys BYBIT_API_KEY=${SIM_API_KEY} BYBIT_API_SECRET=${SIM_API_SECRET})\n`);
sim.play(Number(values['bar-ms']));
const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
