#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import path from 'node:path';
import { TaError, packageVersion } from '@task-agnostic/core';

// A minor GC between candles (model's idleMinorGc) keeps V8's pauses out of the decisions; it
// needs gc(), which Node exposes only with --expose-gc: turn it on here for the trader process.
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  v8.setFlagsFromString('--expose-gc');
  (globalThis as { gc?: unknown }).gc = vm.runInNewContext('gc');
}
import { HELP, USAGE, UsageError, parseCli } from './cli-args.js';
import { runDashboard, runInitModel, runStatus, runTrading } from './run.js';

/** Runs one command; resolves to the exit code (errors print one clear line, never a secret). */
export async function main(argv: readonly string[]): Promise<number> {
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  try {
    if (argv[0] === '--version' || argv[0] === '-V') {
      out(`trader ${packageVersion(path.dirname(fileURLToPath(import.meta.url)))}`);
      return 0;
    }
    const args = parseCli(argv);
    if (args.command === 'help') {
      process.stdout.write(args.topic ? USAGE[args.topic] : HELP);
      return 0;
    }
    if (args.command === 'init-model') return await runInitModel(args, out);
    if (args.command === 'status') return runStatus(args, out);
    const ac = new AbortController();
    let kill: ((reason: string) => void) | undefined;
    const stop = (sig: string) => () => {
      if (ac.signal.aborted) return;
      process.stderr.write(`trader: ${sig} received, stopping after the candle in flight\n`);
      ac.abort();
    };
    process.on('SIGINT', stop('SIGINT'));
    process.on('SIGTERM', stop('SIGTERM'));
    process.on('SIGUSR2', () => kill?.('SIGUSR2 received'));
    if (args.command === 'dashboard') return await runDashboard(args, { out, signal: ac.signal });
    return await runTrading(args, { out, signal: ac.signal, onKillHandle: (k) => (kill = k) });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`trader: ${err.message}\n\n${err.usage}`);
      return 2;
    }
    // One line, never a stack trace (set TRADER_DEBUG=1 for the stack of an unexpected error).
    const msg = err instanceof TaError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`trader: ${msg}\n`);
    if (!(err instanceof TaError) && process.env.TRADER_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof TaError ? 2 : 1;
  }
}

/**
 * True when this file is the process's entry point: run directly, or through a package manager's
 * bin link (`node_modules/.bin/trader`, a symlink or a shim with another name), so compare real paths.
 */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
