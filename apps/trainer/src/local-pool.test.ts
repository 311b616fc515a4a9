/** The local pool of worker processes, with probe jobs (no training): parallelism, failures, a killed process. */
import { afterAll, describe, expect, it } from 'vitest';
import { LocalPool } from './local-pool.js';

const pools: LocalPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

describe('local pool', () => {
  it('runs jobs in two processes at once; a throwing job is an outcome, not a crash', async () => {
    const pool = new LocalPool({ processes: 2 });
    pools.push(pool);
    const outs = await Promise.all([
      pool.run({ id: 'a', kind: 'probe', payload: { busyMs: 300, value: 1 } }),
      pool.run({ id: 'b', kind: 'probe', payload: { busyMs: 300, value: 2 } }),
      pool.run({ id: 'c', kind: 'probe', payload: { fail: 'no such thing' } }),
      pool.run({ id: 'd', kind: 'probe', payload: { value: 4 } }),
    ]);
    expect(outs.map((o) => o.ok)).toEqual([true, true, false, true]);
    expect(outs.map((o) => (o.ok ? (o.result as { value: unknown }).value : o.error))).toEqual([1, 2, 'no such thing', 4]);
    expect(new Set(outs.map((o) => o.pid)).size).toBe(2);
    // CPU time of the job's own process (on a loaded machine well below the 0.3 s of wall time it spun)
    expect(outs[0]!.cpuSeconds).toBeGreaterThan(0);
    expect(outs[0]!.cpuSeconds).toBeLessThan(outs[0]!.seconds + 0.05);
  });

  it('starts a job again on a fresh process when its process is killed', async () => {
    const pool = new LocalPool({ processes: 2 });
    pools.push(pool);
    const lines: string[] = [];
    const p = pool.run({ id: 'long', kind: 'probe', payload: { busyMs: 1500, value: 'x' } }, (l) => lines.push(l));
    const other = pool.run({ id: 'short', kind: 'probe', payload: { busyMs: 100 } });
    await new Promise((r) => setTimeout(r, 700));
    const [victim] = pool.pids();
    process.kill(victim!, 'SIGKILL');
    const out = await p;
    expect(out.ok).toBe(true);
    expect(out.attempts).toBe(2);
    expect(out.pid).not.toBe(victim);
    expect(lines.join('\n')).toMatch(/exited \(SIGKILL\) during the job; starting it again/);
    expect((await other).ok).toBe(true);
  });

  it('starts its processes with the extra Node flags it was given, and refuses a flag without --', async () => {
    const pool = new LocalPool({ processes: 1, execArgv: ['--single-threaded', '--max-semi-space-size=32'] });
    pools.push(pool);
    const out = await pool.run({ id: 'flags', kind: 'probe', payload: {} });
    expect(out.ok).toBe(true);
    const argv = out.ok ? (out.result as { execArgv: string[] }).execArgv : [];
    expect(argv).toEqual(expect.arrayContaining(['--single-threaded', '--max-semi-space-size=32']));
    const plain = new LocalPool({ processes: 1 });
    pools.push(plain);
    const o2 = await plain.run({ id: 'noflags', kind: 'probe', payload: {} });
    expect(o2.ok ? (o2.result as { execArgv: string[] }).execArgv : ['?']).not.toContain('--single-threaded');
    expect(() => new LocalPool({ execArgv: ['single-threaded'] })).toThrow(/'single-threaded' must start with --/);
  });

  it('start() starts every process at once, warm (job code loaded, tfjs backend up), and jobs then run on those processes', async () => {
    const pool = new LocalPool({ processes: 2 });
    pools.push(pool);
    const starts = await pool.start();
    expect(starts).toHaveLength(2);
    const pids = starts.map((s) => s.pid).sort();
    expect(new Set(pids).size).toBe(2);
    expect(pool.pids().sort()).toEqual(pids);
    for (const s of starts) {
      expect(['tensorflow', 'wasm', 'cpu']).toContain(s.backend);
      expect(s.seconds).toBeGreaterThan(0);
      expect(s.cpuSeconds).toBeGreaterThan(0);
    }
    // again: nothing new is started, the same figures come back
    expect((await pool.start()).map((s) => s.pid).sort()).toEqual(pids);
    const outs = await Promise.all([0, 1, 2, 3].map((i) => pool.run({ id: `w${i}`, kind: 'probe', payload: { busyMs: 100, value: i } })));
    expect(outs.map((o) => (o.ok ? (o.result as { value: unknown }).value : o.error))).toEqual([0, 1, 2, 3]);
    expect([...new Set(outs.map((o) => o.pid))].sort()).toEqual(pids);
    await pool.close();
    await expect(pool.start()).rejects.toThrow(/closed/);
  });

  it('start() reports a process that dies while starting', async () => {
    const pool = new LocalPool({ processes: 1 });
    pools.push(pool);
    const starting = pool.start();
    process.kill(pool.pids()[0]!, 'SIGKILL');
    await expect(starting).rejects.toThrow(/worker process \d+ exited \(SIGKILL\) while starting/);
  });
});
