import { pino, destination, type Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear (two levels deep). */
export const REDACT_PATHS = [
  'apiKey', 'apiSecret', 'secret', 'password', 'credentials', 'signature', 'headers',
  '*.apiKey', '*.apiSecret', '*.secret', '*.password', '*.credentials', '*.signature', '*.headers',
];

export interface LoggerOptions {
  /** Append JSON lines to this file instead of stderr. */
  readonly file?: string;
  readonly level?: string;
  /** Extra strings to scrub from messages (the API secret and key). */
  readonly secrets?: readonly string[];
}

/**
 * Structured JSON logs (pino), written synchronously (a kill -9 loses no line already logged),
 * with secrets redacted by key and, when given, scrubbed from messages.
 */
export function createLogger(o: LoggerOptions = {}): Logger {
  const secrets = (o.secrets ?? []).filter((s) => s.length >= 4);
  const dest = o.file ? destination({ dest: o.file, sync: true, mkdir: true }) : destination({ dest: 2, sync: true });
  return pino(
    {
      level: o.level ?? 'info',
      base: { app: 'trader' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      ...(secrets.length
        ? {
            hooks: {
              logMethod(args, method) {
                method.apply(this, args.map((v) => scrub(v, secrets, 0)) as Parameters<typeof method>);
              },
            },
          }
        : {}),
    },
    dest,
  );
}

/** Replaces every occurrence of a secret in strings, also inside objects and arrays (4 levels deep). */
function scrub(v: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof v === 'string') return secrets.reduce((s, x) => s.split(x).join('[REDACTED]'), v);
  if (depth >= 4 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => scrub(x, secrets, depth + 1));
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return scrub((v as { toJSON(): unknown }).toJSON(), secrets, depth + 1);
  if (v instanceof Error) return { type: v.name, message: scrub(v.message, secrets, depth + 1) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrub(x, secrets, depth + 1);
  return out;
}
