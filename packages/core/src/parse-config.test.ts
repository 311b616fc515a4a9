import { describe, expect, it } from 'vitest';
import { z } from 'zod/v3';
import { ConfigError } from './errors.js';
import { configErrorFromZod, parseWithSchema } from './parse-config.js';

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

describe('configErrorFromZod', () => {
  const schema = z.object({ a: z.number(), b: z.object({ c: z.string() }) }).strict();
  const zerr = (json: unknown): z.ZodError => {
    const r = schema.safeParse(json);
    if (r.success) throw new Error('expected a zod failure');
    return r.error;
  };
  it('puts the fields under the prefix and lists every problem', () => {
    const e = configErrorFromZod(zerr({ a: 'x', b: { c: 2 } }), { prefix: 'training' });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.field).toBe('training.a');
    expect(e.message).toMatch(/^training\.a: Expected number, received string; training\.b\.c: Expected string, received number$/);
  });
  it('names the whole value by rootField, and says what it is', () => {
    const e = configErrorFromZod(zerr(5), { what: 'thing config', rootField: 'thing' });
    expect(e.field).toBe('thing');
    expect(e.message).toBe('invalid thing config: thing: Expected object, received number');
    expect(configErrorFromZod(zerr(5)).message).toBe('(root): Expected object, received number');
  });
});
