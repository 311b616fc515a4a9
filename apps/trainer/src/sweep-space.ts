/**
 * A hyperparameter search space (`trainer sweep --space sweep.json`), validated with zod at the
 * edge: the base run config (a preset, a config file or an inline config), fixed overrides, and
 * the searched parameters by dotted path into the run config, each a float or int range (linear
 * or log) or a list of choices. Only model, training, pre-training, fusion and risk settings may
 * be searched: data, split and seed stay fixed, so every trial is judged on the same rows.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod/v3';
import { ConfigError, type Rng, parseWithSchema } from '@task-agnostic/core';
import { deepMerge, parseTrainerConfig, resolveConfig, type TrainerConfig, type TrainerConfigInput } from './config.js';

/** The run-config sections a space may search. */
export const SEARCHABLE_SECTIONS = ['model', 'training', 'pretrain', 'fusion', 'risk'] as const;

const FloatParam = z
  .object({ type: z.literal('float'), low: z.number().finite(), high: z.number().finite(), log: z.boolean().default(false) })
  .strict()
  .superRefine((p, ctx) => {
    if (!(p.high > p.low)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['high'], message: `must be greater than low (${p.low})` });
    if (p.log && !(p.low > 0)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['low'], message: 'must be > 0 for a log range' });
  });

const IntParam = z
  .object({ type: z.literal('int'), low: z.number().int(), high: z.number().int(), step: z.number().int().positive().default(1), log: z.boolean().default(false) })
  .strict()
  .superRefine((p, ctx) => {
    if (!(p.high > p.low)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['high'], message: `must be greater than low (${p.low})` });
    if (p.log && !(p.low > 0)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['low'], message: 'must be > 0 for a log range' });
    if (p.log && p.step !== 1) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['step'], message: 'a log range takes no step' });
  });

const ChoiceValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const ChoiceParam = z.object({ type: z.literal('choice'), values: z.array(ChoiceValue).min(1, 'needs at least one value') }).strict();

export type ParamSpec = z.infer<typeof FloatParam> | z.infer<typeof IntParam> | z.infer<typeof ChoiceParam>;
export type ParamValue = z.infer<typeof ChoiceValue>;
export type Params = Record<string, ParamValue>;

const paramPath = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/, 'a parameter is a dotted path into the run config, e.g. training.learningRate')
  .refine((p) => (SEARCHABLE_SECTIONS as readonly string[]).includes(p.split('.')[0]!), `only ${SEARCHABLE_SECTIONS.join(', ')} settings can be searched`);

export const SpaceSchema = z
  .object({
    /** The run config trials start from: a preset name, a config file (relative to the space file) or a config object. */
    base: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).default('quick'),
    /** Fixed settings applied on top of the base for every trial (e.g. a smaller budget). */
    overrides: z.record(z.string(), z.unknown()).default({}),
    /** The searched parameters by dotted path. */
    params: z.record(z.string(), z.unknown()).refine((p) => Object.keys(p).length > 0, 'needs at least one parameter'),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const [key, spec] of Object.entries(s.params)) {
      const k = paramPath.safeParse(key);
      if (!k.success) for (const i of k.error.issues) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['params', key], message: i.message });
      const kind = (spec as { type?: unknown } | null)?.type;
      const schema = kind === 'float' ? FloatParam : kind === 'int' ? IntParam : kind === 'choice' ? ChoiceParam : null;
      if (!schema) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['params', key, 'type'], message: "must be 'float', 'int' or 'choice'" });
        continue;
      }
      const r = schema.safeParse(spec);
      if (!r.success) for (const i of r.error.issues) ctx.addIssue({ ...i, path: ['params', key, ...i.path] } as z.IssueData);
    }
  });

export interface SearchSpace {
  readonly base: TrainerConfig;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Parameter names in a fixed order (the file's). */
  readonly names: readonly string[];
}

/** Validates a space document; `dir` resolves a base config file named relatively. */
export function parseSpace(json: unknown, source = 'search space', dir = process.cwd()): SearchSpace {
  const s = parseWithSchema(SpaceSchema, json, source, { rootField: 'space' });
  const params: Record<string, ParamSpec> = {};
  for (const [k, v] of Object.entries(s.params)) {
    const kind = (v as { type: string }).type;
    params[k] = (kind === 'float' ? FloatParam : kind === 'int' ? IntParam : ChoiceParam).parse(v);
  }
  let base: TrainerConfig;
  if (typeof s.base === 'string') {
    const spec = /[/\\]|\.json$/.test(s.base) ? path.resolve(dir, s.base) : s.base;
    base = resolveConfig(spec, s.overrides as TrainerConfigInput);
  } else {
    base = parseTrainerConfig(deepMerge(s.base, s.overrides), `${source}: base`);
  }
  const space: SearchSpace = { base, params, names: Object.keys(params) };
  // Each parameter must land somewhere the run config accepts: its lowest and highest values are tried now.
  for (const name of space.names) {
    for (const u of [0, 1]) {
      const one = Object.fromEntries(space.names.map((n) => [n, decode(space.params[n]!, n === name ? u : 0.5)]));
      try {
        configFor(space, one);
      } catch (err) {
        throw new ConfigError(`${source}: params.${name}: ${(err as Error).message}`, `params.${name}`);
      }
    }
  }
  return space;
}

/** Reads and validates a space file. */
export function readSpace(file: string): SearchSpace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--space '${file}' cannot be read: ${(err as Error).message}`, 'space');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`, 'space');
  }
  return parseSpace(json, file, path.dirname(path.resolve(file)));
}

/** Sets `value` at a dotted path of a copy of `obj`. */
function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = dotted.split('.');
  const cur = obj[head!];
  if (rest.length === 0) return { ...obj, [head!]: value };
  const child = typeof cur === 'object' && cur !== null && !Array.isArray(cur) ? (cur as Record<string, unknown>) : {};
  return { ...obj, [head!]: setPath(child, rest.join('.'), value) };
}

/** The run config of one trial: the base with the trial's parameters put in (validated again). */
export function configFor(space: SearchSpace, params: Params): TrainerConfig {
  let cfg = space.base as unknown as Record<string, unknown>;
  for (const name of space.names) {
    if (!(name in params)) throw new ConfigError(`trial parameters lack ${name}`, name);
    cfg = setPath(cfg, name, params[name]);
  }
  return parseTrainerConfig(cfg, 'trial config');
}

/** A value of the parameter at u in [0, 1] (linear or log scale; ints rounded to their step; choices by index). */
export function decode(p: ParamSpec, u: number): ParamValue {
  const x = Math.min(1, Math.max(0, u));
  if (p.type === 'choice') return p.values[Math.min(p.values.length - 1, Math.floor(x * p.values.length))]!;
  if (p.type === 'int' && !p.log) {
    const count = Math.floor((p.high - p.low) / p.step) + 1;
    return p.low + Math.min(count - 1, Math.floor(x * count)) * p.step;
  }
  const v = p.log ? Math.exp(Math.log(p.low) + x * (Math.log(p.high) - Math.log(p.low))) : p.low + x * (p.high - p.low);
  return p.type === 'float' ? v : Math.min(p.high, Math.max(p.low, Math.round(v)));
}

/** Where a value sits in [0, 1] (the inverse of decode, at a choice's bin centre). */
export function encode(p: ParamSpec, v: ParamValue): number {
  if (p.type === 'choice') {
    const i = p.values.findIndex((x) => x === v);
    return (Math.max(0, i) + 0.5) / p.values.length;
  }
  const x = Number(v);
  if (p.type === 'int' && !p.log) {
    const count = Math.floor((p.high - p.low) / p.step) + 1;
    return (Math.round((x - p.low) / p.step) + 0.5) / count;
  }
  return p.log ? (Math.log(x) - Math.log(p.low)) / (Math.log(p.high) - Math.log(p.low)) : (x - p.low) / (p.high - p.low);
}

/** A uniformly random point of the space (log ranges uniform in the log). */
export function samplePoint(space: SearchSpace, rng: Rng): Params {
  return Object.fromEntries(space.names.map((n) => [n, decode(space.params[n]!, rng.next())]));
}
