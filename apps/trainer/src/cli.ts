#!/usr/bin/env node
import { runCli } from './commands.js';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error & { code?: string };
    process.stderr.write(`error: ${e.message}\n`);
    if (process.env.TAT_DEBUG === '1' && e.stack) process.stderr.write(e.stack + '\n');
    process.exit(e.code === 'CONFIG' ? 2 : 1);
  },
);
