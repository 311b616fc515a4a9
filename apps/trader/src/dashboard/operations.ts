/**
 * Operations around a trading run, wired by `trader paper|live`: Prometheus metrics, webhook alerts,
 * the engine observer feeding both, the dashboard server and the market-data connection watch.
 * start() binds the dashboard's port before the trader opens its journal or loads a model, so a
 * port in use stops the start with one clear line and nothing half-started.
 */
import type { Logger } from 'pino';
import type { OpsArgs } from '../cli-args.js';
import type { EngineObserver } from '../engine-events.js';
import type { Journal } from '../journal.js';
import { TOKEN_ENV, checkToken } from './auth.js';
import { LogAlerts, WebhookAlerts, type AlertNotifier } from './alerts.js';
import { TraderMetrics } from './metrics.js';
import { ConnectionWatch, TradingMonitor } from './monitor.js';
import { DashboardServer } from './server.js';

export class Operations {
  readonly metrics = new TraderMetrics();
  readonly alerts: AlertNotifier;
  readonly monitor: TradingMonitor;
  private watch: ConnectionWatch | null = null;

  private constructor(
    private readonly o: OpsArgs,
    private readonly logger: Logger,
    readonly server: DashboardServer | null,
    source: string,
  ) {
    if (o.alertWebhook) {
      const w = new WebhookAlerts({ url: o.alertWebhook, source }, logger);
      w.onOutcome = (kind, outcome) => this.metrics.alertsSent.inc({ kind, outcome });
      this.alerts = w;
    } else {
      this.alerts = new LogAlerts(logger);
    }
    this.monitor = new TradingMonitor(this.metrics, this.alerts);
    if (server) this.monitor.sink = server;
  }

  /** Binds the dashboard (when asked for) and prints its URL (it carries the token). */
  static async start(o: OpsArgs & { readonly command: 'paper' | 'live'; readonly journal: string }, logger: Logger, out: (line: string) => void): Promise<Operations> {
    const envToken = process.env[TOKEN_ENV];
    const token = o.dashboardToken ?? (envToken ? checkToken(envToken) : undefined);
    const server = o.dashboard ? new DashboardServer({ host: o.dashboard.host, port: o.dashboard.port, logger, mode: o.command, ...(token ? { token } : {}) }) : null;
    if (server) {
      await server.listen();
      out(`dashboard on ${server.url}`);
      logger.info({ host: o.dashboard!.host, port: server.port, guarded: server.guarded }, 'dashboard listening');
    }
    return new Operations(o, logger, server, o.journal);
  }

  /** The engines' observer, or undefined when neither the dashboard nor a webhook is on (the loop is then untouched). */
  get observer(): EngineObserver | undefined {
    return this.server || this.o.alertWebhook ? this.monitor : undefined;
  }

  attach(journal: Journal, kill: (reason: string) => void, status: () => string[]): void {
    this.server?.attach({ journal, metrics: this.metrics, kill, status });
  }

  /** Watches a market-data connection (alert when down longer than --alert-disconnect-s). */
  watchConnection(isOpen: () => boolean): void {
    this.watch = new ConnectionWatch(isOpen, this.o.alertDisconnectS * 1000, this.metrics, this.alerts);
    this.watch.start();
  }

  /** Stops the watch, delivers queued alerts (at most `waitMs`), closes the dashboard. */
  async close(waitMs = 10_000): Promise<void> {
    this.watch?.stop();
    this.monitor.flush();
    if (this.alerts instanceof WebhookAlerts) {
      const t = new Promise<void>((r) => setTimeout(r, waitMs).unref());
      await Promise.race([this.alerts.flush(), t]);
    }
    await this.server?.close();
    this.logger.debug('operations closed');
  }
}
