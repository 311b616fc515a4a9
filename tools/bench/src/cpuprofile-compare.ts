// Not a benchmark: a tool. Compares two time windows of one V8 CPU profile (`node --cpu-prof`), to
// find what costs more late in a long run than early on (per-step work that grows with history).
//
//   node --import tsx src/cpuprofile-compare.ts run.cpuprofile [--a 0.05-0.25] [--b 0.80-1] [--top 25]
//
// Windows are fractions of the profile's sampled time. For every function (name, file, line) it
// prints the share of the window's non-idle samples spent in it (self) and under it (inclusive:
// the function or anything it called), in both windows, sorted by how much the inclusive share grew.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function usage(msg: string): never {
  console.error(`cpuprofile-compare: ${msg}\nusage: cpuprofile-compare FILE.cpuprofile [--a FROM-TO] [--b FROM-TO] [--top N]`);
  process.exit(2);
}

function window(v: string | undefined, dflt: [number, number], flag: string): [number, number] {
  if (v === undefined) return dflt;
  const m = /^(\d*\.?\d+)-(\d*\.?\d+)$/.exec(v);
  const w: [number, number] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(w[0] >= 0 && w[1] <= 1 && w[0] < w[1])) usage(`${flag} must be FROM-TO, fractions of the run with 0 <= FROM < TO <= 1, got '${v}'`);
  return w;
}

const args = process.argv.slice(2);
const file = args[0];
if (!file || file.startsWith('--')) usage('no profile file given');
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i > 0 ? args[i + 1] : undefined;
};
const wa = window(opt('--a'), [0.05, 0.25], '--a');
const wb = window(opt('--b'), [0.8, 1], '--b');
const top = Number(opt('--top') ?? 25);
if (!(Number.isInteger(top) && top > 0)) usage(`--top must be a positive integer, got '${opt('--top')}'`);

let prof: CpuProfile;
try {
  prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
} catch (err) {
  usage(`cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
}
if (!Array.isArray(prof.nodes) || !Array.isArray(prof.samples) || !Array.isArray(prof.timeDeltas) || prof.samples.length !== prof.timeDeltas.length) {
  usage(`${file} is not a V8 CPU profile (nodes, samples and timeDeltas of equal length)`);
}

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (n: ProfileNode): string => {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
};
const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

// Sample times (us from the first sample); each sample stands for the interval until the next one.
const t: number[] = [];
let acc = 0;
for (const d of prof.timeDeltas) t.push((acc += d));
const t0 = t[0] ?? 0;
const span = (t[t.length - 1] ?? 0) - t0;

interface Tally {
  total: number;
  gc: number;
  readonly self: Map<string, number>;
  readonly incl: Map<string, number>;
}
function tally(w: [number, number]): Tally {
  const out: Tally = { total: 0, gc: 0, self: new Map(), incl: new Map() };
  const lo = t0 + w[0] * span;
  const hi = t0 + w[1] * span;
  for (let i = 0; i < prof.samples.length; i++) {
    if (t[i]! < lo || t[i]! > hi) continue;
    const dt = (t[i + 1] ?? t[i]!) - t[i]!;
    const node = byId.get(prof.samples[i]!);
    if (!node) continue;
    const name = node.callFrame.functionName;
    if (name === '(garbage collector)') out.gc += dt;
    if (IDLE.has(name) && name !== '(garbage collector)') continue;
    out.total += dt;
    const k = keyOf(node);
    out.self.set(k, (out.self.get(k) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const kk = keyOf(byId.get(id)!);
      if (seen.has(kk)) continue;
      seen.add(kk);
      out.incl.set(kk, (out.incl.get(kk) ?? 0) + dt);
    }
  }
  return out;
}

const A = tally(wa);
const B = tally(wb);
const share = (m: Map<string, number>, k: string, tot: number): number => (tot > 0 ? ((m.get(k) ?? 0) / tot) * 100 : 0);
const keys = new Set([...A.incl.keys(), ...B.incl.keys()]);
const rows = [...keys]
  .map((k) => ({ k, ia: share(A.incl, k, A.total), ib: share(B.incl, k, B.total), sa: share(A.self, k, A.total), sb: share(B.self, k, B.total) }))
  .filter((r) => r.ia < 99.5 || r.ib < 99.5) // the roots
  .sort((x, y) => y.ib - y.ia - (x.ib - x.ia))
  .slice(0, top);

const f = (x: number): string => x.toFixed(2).padStart(6);
console.log(`${file}: window A ${wa.join('-')} (${(A.total / 1e3).toFixed(0)} ms busy, GC ${((A.gc / Math.max(1, A.total)) * 100).toFixed(1)} %), window B ${wb.join('-')} (${(B.total / 1e3).toFixed(0)} ms busy, GC ${((B.gc / Math.max(1, B.total)) * 100).toFixed(1)} %)`);
console.log('| incl % A | incl % B | self % A | self % B | function |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${f(r.ia)} | ${f(r.ib)} | ${f(r.sa)} | ${f(r.sb)} | ${r.k} |`);
