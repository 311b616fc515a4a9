#!/usr/bin/env node
const HELP = `trader: paper and live trading of task-agnostic models on Bybit

Usage: trader <command> [options]

Commands (arriving with the trader issue):
  paper   paper trading on live, simulated or replayed market data
  live    real orders on Bybit (testnet, demo or mainnet)
`;

export function runCli(argv: readonly string[]): number {
  const [command] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  process.stderr.write(`trader ${command}: not available in this version yet\n\n${HELP}`);
  return 2;
}

process.exit(runCli(process.argv.slice(2)));
