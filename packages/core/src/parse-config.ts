import { z } from 'zod/v3';
import { ConfigError } from './errors.js';

export interface ZodConfigErrorOptions {
  /** Names the config in the message: "invalid <what>: ...". */
  readonly what?: string;
  /** Dotted path the fields sit under (e.g. `training` gives `training.harmoniser.sMin`). */
  readonly prefix?: string;
  /** The field reported when the problem is the whole value (an empty path). */
  readonly rootField?: string;
}

/**
 * A ConfigError for a zod failure: its `field` is the dotted path of the first bad value (under
 * `prefix`), its message lists every problem with its path. zod's messages describe the expected
 * value; do not use this where the received value may be a secret.
 */
export function configErrorFromZod(err: z.ZodError, o: ZodConfigErrorOptions = {}): ConfigError {
  const pathOf = (i: z.ZodIssue): string => [o.prefix, ...i.path.map(String)].filter((s) => s !== undefined && s !== '').join('.');
  const first = err.issues[0];
  const field = (first && pathOf(first)) || o.rootField || o.prefix;
  const msg = err.issues.map((i) => `${pathOf(i) || o.rootField || '(root)'}: ${i.message}`).join('; ');
  return new ConfigError(o.what ? `invalid ${o.what}: ${msg}` : msg, field);
}

/**
 * Validates `json` (undefined means all defaults) against `schema`; on failure throws
 * configErrorFromZod's ConfigError (field = dotted path of the first bad value, every problem
 * listed in the message).
 */
export function parseWithSchema<S extends z.ZodTypeAny>(schema: S, json: unknown, what: string, options: Omit<ZodConfigErrorOptions, 'what'> = {}): z.output<S> {
  const r = schema.safeParse(json ?? {});
  if (r.success) return r.data as z.output<S>;
  throw configErrorFromZod(r.error, { ...options, what });
}
