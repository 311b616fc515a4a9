import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseWithSchema } from './parse-config.js';

describe('parseWithSchema', () => {
  const schema = z.object({ a: z.number().default(1), b: z.object({ c: z.string() }).optional() }).strict();
  it('fills defaults, and reads a missing config as {}', () => {
    expect(parseWithSchema(schema, undefined, 'thing')).toEqual({ a: 1 });
    expect(parseWithSchema(schema, { a: 3 }, 'thing')).toEqual({ a: 3 });
  });
  it('throws a ConfigError naming the first bad field and listing every problem', () => {
    let err: ConfigError | undefined;
    try {
      parseWithSchema(schema, { a: 'x', b: { c: 2 } }, 'thing');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.field).toBe('a');
    expect(err!.message).toMatch(/^invalid thing: a: .*; b\.c: /);
  });
});
