/**
 * Webhook alerts: a JSON POST per alert ({ kind, message, ts, data, source }) with retries and
 * exponential backoff. Sending never blocks the trading loop: notify() queues and returns; alerts are
 * delivered one at a time in order; flush() waits for the queue (on shutdown). Kinds: the kill switch,
 * the daily-loss halt, a market-data disconnect longer than N seconds, a rejected order, and a
 * deployment-gate warning (model loading calls notify({ kind: 'deployment-gate', ... })).
 */
import type { Logger } from 'pino';
import { z } from 'zod/v3';
import { ConfigError } from '@task-agnostic/core';

export const ALERT_KINDS = ['kill-switch', 'daily-loss-halt', 'disconnect', 'order-rejected', 'deployment-gate'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  readonly kind: AlertKind;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What anything in the trader calls to raise an alert (a no-op sink when no webhook is set). */
export interface AlertNotifier {
  notify(alert: Alert): void;
}

export const alertSinkOptionsSchema = z
  .object({
    url: z.string().url(),
    /** Attempts per alert (the first send and its retries). */
    attempts: z.number().int().min(1).max(20).default(5),
    /** Backoff before retry k (k = 1, 2, ...): baseDelayMs * 2^(k-1), capped at maxDelayMs. */
    baseDelayMs: z.number().min(0).default(500),
    maxDelayMs: z.number().min(0).default(30_000),
    /** Per-request timeout. */
    timeoutMs: z.number().int().positive().default(5_000),
    /** Alerts waiting beyond this are dropped (oldest first) with a log line. */
    maxQueue: z.number().int().positive().default(100),
    /** Sent as `source` in every payload (e.g. the journal file). */
    source: z.string().default('trader'),
  })
  .strict();
export type AlertSinkOptions = z.input<typeof alertSinkOptionsSchema>;

/** The payload POSTed for one alert. */
export interface AlertPayload {
  readonly kind: AlertKind;
  readonly message: string;
  readonly ts: string;
  readonly source: string;
  readonly data: Readonly<Record<string, unknown>>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref?.());

export class WebhookAlerts implements AlertNotifier {
  private readonly o: z.output<typeof alertSinkOptionsSchema>;
  private readonly queue: AlertPayload[] = [];
  private running: Promise<void> | null = null;
  readonly stats = { sent: 0, failed: 0, dropped: 0, attempts: 0 };
  /** Called after each alert with its outcome (metrics). */
  onOutcome?: (kind: AlertKind, outcome: 'sent' | 'failed' | 'dropped') => void;

  constructor(options: AlertSinkOptions, private readonly logger: Logger) {
    const r = alertSinkOptionsSchema.safeParse(options);
    if (!r.success) throw new ConfigError(`alert webhook: ${r.error.issues.map((i) => `${i.path.join('.') || 'options'} ${i.message}`).join('; ')}`, 'alert-webhook');
    const u = new URL(r.data.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`--alert-webhook must be an http(s) URL, got ${u.protocol}`, 'alert-webhook');
    this.o = r.data;
  }

  notify(alert: Alert): void {
    if (!(ALERT_KINDS as readonly string[]).includes(alert.kind)) {
      this.logger.warn({ kind: alert.kind }, 'unknown alert kind (not sent)');
      return;
    }
    if (this.queue.length >= this.o.maxQueue) {
      const old = this.queue.shift()!;
      this.stats.dropped++;
      this.onOutcome?.(old.kind, 'dropped');
      this.logger.warn({ kind: old.kind }, 'alert queue full: oldest alert dropped');
    }
    this.queue.push({ kind: alert.kind, message: alert.message, ts: new Date().toISOString(), source: this.o.source, data: alert.data ?? {} });
    this.logger.warn({ alert: alert.kind, message: alert.message }, 'alert');
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
  }

  /** Resolves when every queued alert was delivered or gave up. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const p = this.queue.shift()!;
      const ok = await this.deliver(p);
      if (ok) this.stats.sent++;
      else this.stats.failed++;
      this.onOutcome?.(p.kind, ok ? 'sent' : 'failed');
    }
  }

  private async deliver(p: AlertPayload): Promise<boolean> {
    const body = JSON.stringify(p);
    let last = '';
    for (let k = 0; k < this.o.attempts; k++) {
      if (k > 0) await sleep(Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (k - 1)));
      this.stats.attempts++;
      try {
        const res = await fetch(this.o.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.o.timeoutMs) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return true;
        last = `HTTP ${res.status}`;
        // A 4xx other than 408/429 will not succeed on retry.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) break;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    this.logger.error({ alert: p.kind, error: last, attempts: this.o.attempts }, 'alert webhook failed: alert not delivered');
    return false;
  }
}

/** Alerts go to the log only (no webhook configured). */
export class LogAlerts implements AlertNotifier {
  constructor(private readonly logger: Logger) {}
  notify(alert: Alert): void {
    this.logger.warn({ alert: alert.kind, message: alert.message, ...(alert.data ? { data: alert.data } : {}) }, 'alert');
  }
}
