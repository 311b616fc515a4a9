import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * Validates `json` against `schema`; on failure throws a ConfigError whose `field` is the dotted
 * path of the first bad value (e.g. `weights.direction`) and whose message lists every problem.
 */
export function parseWithSchema<S extends z.ZodTypeAny>(schema: S, json: unknown, what: string): z.output<S> {
  const r = schema.safeParse(json ?? {});
  if (r.success) return r.data as z.output<S>;
  const issues = r.error.issues;
  const first = issues[0];
  const field = first && first.path.length ? first.path.join('.') : undefined;
  const msg = issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
  throw new ConfigError(`invalid ${what}: ${msg}`, field);
}
