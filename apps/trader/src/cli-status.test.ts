import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await fn(), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

describe('trader status and --version', () => {
  it('status on a missing journal is an error and creates nothing', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tat-status-')), 'typo.db');
    const r = await capture(() => main(['status', '--journal', file]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no journal at .*typo\.db/);
    expect(existsSync(file)).toBe(false);
  });

  it('--version prints the package version', async () => {
    const r = await capture(() => main(['--version']));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^trader \d+\.\d+\.\d+\n$/);
  });
});
