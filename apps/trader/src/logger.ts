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
                const scrub = (v: unknown): unknown => (typeof v === 'string' ? secrets.reduce((s, x) => s.split(x).join('[REDACTED]'), v) : v);
                method.apply(this, args.map(scrub) as Parameters<typeof method>);
              },
            },
          }
        : {}),
    },
    dest,
  );
}
