#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { formatSyntheticSummary, summariseSyntheticMarket } from './synthetic-summary.js';

const HELP = `trainer: build, evaluate and backtest task-agnostic trading models

Usage: trainer <command> [options]

Commands:
  main [--seed N] [--bars N]   the main job on the built-in synthetic market
                               (today: generate, validate and summarise it)

Examples:
  trainer main
  trainer main --seed 7 --bars 50000
`;

export async function runCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'main') {
    const { values } = parseArgs({ args: [...rest], options: { seed: { type: 'string', default: '42' }, bars: { type: 'string', default: '20000' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const seed = Number(values.seed);
    const bars = Number(values.bars);
    if (!Number.isInteger(bars) || bars < 2) throw new Error(`--bars must be an integer >= 2, got '${values.bars}'`);
    process.stdout.write(formatSyntheticSummary(summariseSyntheticMarket({ seed: Number.isFinite(seed) ? seed : String(values.seed), bars })) + '\n');
    return 0;
  }
  process.stderr.write(`unknown command '${command}'\n\n${HELP}`);
  return 2;
}

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
