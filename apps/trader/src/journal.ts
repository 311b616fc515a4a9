import Database from 'better-sqlite3';
import type {
  Candle,
  Fill,
  Interval,
  OrderRequest,
  OrderStatus,
  Position,
  RiskVerdict,
  SymbolId,
  TradingDecision,
} from '@task-agnostic/core';
import { DataError } from '@task-agnostic/core';
import { existsSync, statSync } from 'node:fs';
import { lockJournal } from './journal-lock.js';

/**
 * The trader's journal: every candle seen, decision (with reasoning and task outputs), risk verdict,
 * order, fill and position change, in SQLite (WAL, synchronous=FULL). Rows are written BEFORE the
 * trader acts on them, so after a crash (even kill -9) a restart finds every intent, re-derives
 * the same client order ids, and asks the exchange about any order whose fate it does not know
 * instead of sending it again.
 */
export const JOURNAL_SCHEMA_VERSION = 1;

export type JournalOrderStatus = 'intent' | 'sent' | OrderStatus | 'unknown';

export interface JournalOrder {
  readonly clientOrderId: string;
  readonly symbol: SymbolId;
  readonly side: 'buy' | 'sell';
  readonly type: 'market' | 'limit';
  readonly qty: number;
  readonly price: number | null;
  readonly reduceOnly: boolean;
  readonly status: JournalOrderStatus;
  readonly exchangeOrderId: string | null;
  readonly decisionId: number | null;
  readonly createdMs: number;
  readonly updatedMs: number;
  readonly error: string | null;
}

/** Why a target was set: a decision, the kill switch, or a flatten on exit. */
export type TargetKind = 'decision' | 'kill' | 'exit';

/** The position a venue is asked to hold after an order intent (paper replays these on restart). */
export interface JournalTarget {
  readonly symbol: SymbolId;
  readonly candleTs: number;
  readonly kind: TargetKind;
  readonly side: 'long' | 'short' | 'flat';
  readonly sizeFraction: number;
  readonly stopLossPct: number;
  readonly takeProfitPct: number;
}

export interface JournalDecision {
  readonly id: number;
  readonly decision: TradingDecision;
  readonly verdict: RiskVerdict | undefined;
}

export interface StageLatency {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS candles (
  symbol TEXT NOT NULL, interval TEXT NOT NULL, ts_ms INTEGER NOT NULL,
  open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL, volume REAL NOT NULL,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (symbol, interval, ts_ms)
);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  symbol TEXT NOT NULL, ts_ms INTEGER NOT NULL, action TEXT NOT NULL, side TEXT NOT NULL,
  confidence REAL NOT NULL, agreement REAL NOT NULL, size_fraction REAL NOT NULL,
  stop_loss_pct REAL NOT NULL, take_profit_pct REAL NOT NULL, reasoning TEXT NOT NULL,
  outputs_json TEXT, latency_json TEXT, created_ms INTEGER NOT NULL,
  UNIQUE (symbol, ts_ms)
);
CREATE TABLE IF NOT EXISTS verdicts (
  decision_id INTEGER PRIMARY KEY REFERENCES decisions(id),
  approved INTEGER NOT NULL, size_fraction REAL NOT NULL, stop_loss_pct REAL NOT NULL,
  take_profit_pct REAL NOT NULL, reasons_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
  client_order_id TEXT PRIMARY KEY, symbol TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL,
  qty REAL NOT NULL, price REAL, reduce_only INTEGER NOT NULL, stop_loss_price REAL, take_profit_price REAL,
  status TEXT NOT NULL, exchange_order_id TEXT, decision_id INTEGER REFERENCES decisions(id),
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, error TEXT
);
CREATE TABLE IF NOT EXISTS fills (
  id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, client_order_id TEXT, symbol TEXT NOT NULL,
  side TEXT NOT NULL, qty REAL NOT NULL, price REAL NOT NULL, fee REAL NOT NULL, liquidity TEXT NOT NULL,
  reason TEXT NOT NULL, ts_ms INTEGER NOT NULL,
  UNIQUE (order_id, ts_ms, qty, price)
);
CREATE TABLE IF NOT EXISTS position_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, symbol TEXT NOT NULL, ts_ms INTEGER NOT NULL,
  side TEXT, qty REAL NOT NULL, entry_price REAL, cause TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, kind TEXT NOT NULL, data_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS latencies (
  id INTEGER PRIMARY KEY AUTOINCREMENT, stage TEXT NOT NULL, ms REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS targets (
  client_order_id TEXT PRIMARY KEY REFERENCES orders(client_order_id), symbol TEXT NOT NULL, candle_ts INTEGER NOT NULL,
  kind TEXT NOT NULL, side TEXT NOT NULL, size_fraction REAL NOT NULL, stop_loss_pct REAL NOT NULL, take_profit_pct REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS equity (
  symbol TEXT NOT NULL, ts_ms INTEGER NOT NULL, equity REAL NOT NULL, close REAL NOT NULL, position_qty REAL NOT NULL,
  PRIMARY KEY (symbol, ts_ms)
);
CREATE TABLE IF NOT EXISTS risk_layers (
  decision_id INTEGER PRIMARY KEY REFERENCES decisions(id), layers_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS targets_candle ON targets(symbol, candle_ts);
CREATE INDEX IF NOT EXISTS orders_status ON orders(status);
`;
/**
 * Indexes of earlier versions dropped when a writer opens the journal. latencies_stage (stage, ms)
 * took every latency row at a random place: a batch of 1,000 rows rewrote up to 1,000 index pages,
 * more the longer the run (latencyStats sorts in memory instead).
 */
const DROPPED_INDEXES = ['latencies_stage'] as const;

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));
}

/** The tables and columns a journal of this schema version has (from SCHEMA, built in memory once). */
let expectedSchema: Map<string, string> | null = null;
function tableColumns(db: Database.Database): Map<string, string> {
  const out = new Map<string, string>();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
  for (const { name } of tables) {
    const cols = db.pragma(`table_info(${JSON.stringify(name)})`) as { name: string; type: string }[];
    out.set(name, cols.map((c) => `${c.name} ${c.type}`).join(', '));
  }
  return out;
}
/**
 * Tables added to schema version 1 later, which older journals lack: display-only data (the
 * dashboard's equity curve and risk layers) that no recovery reads, created when missing.
 */
const ADDED_TABLES: ReadonlySet<string> = new Set(['equity', 'risk_layers']);

function schemaDifference(db: Database.Database): string | null {
  if (!expectedSchema) {
    const mem = new Database(':memory:');
    mem.exec(SCHEMA);
    expectedSchema = tableColumns(mem);
    mem.close();
  }
  const got = tableColumns(db);
  const missing = [...expectedSchema.keys()].filter((t) => !got.has(t) && !ADDED_TABLES.has(t));
  if (missing.length) return `table(s) ${missing.join(', ')} missing`;
  const changed = [...expectedSchema].filter(([t, cols]) => got.has(t) && got.get(t) !== cols).map(([t]) => t);
  if (changed.length) return `table(s) ${changed.join(', ')} do not have the expected columns`;
  return null;
}

const RECOVERY_HINT =
  'refusing to resume from it. Recover: restore the journal from a backup, or move it aside and start a new one (sqlite3 <file> ".recover" salvages what is readable); never resume from a partial journal, or orders and positions would be lost';

/** One line from a SQLite error (code and message), no stack. */
function sqliteMessage(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return `${typeof e.code === 'string' ? `${e.code}: ` : ''}${String(e.message ?? err)}`.split('\n')[0]!;
}

/** Commits between two WAL checkpoints (Journal.checkpoint). ~2 KB per candle: a few MB of WAL. */
export const CHECKPOINT_EVERY_COMMITS = 1_000;

/** Orders whose final state the journal does not know (written or sent, no terminal status yet). */
const UNSETTLED_ORDERS_SQL = "SELECT * FROM orders WHERE status IN ('intent', 'sent', 'unknown', 'new', 'partially_filled') ORDER BY created_ms";

export class Journal {
  private readonly db: Database.Database;
  private readonly st: Record<string, Database.Statement>;
  private release: () => void = () => {};
  private commitCount = 0;
  private file = '';
  private checkpointCount = 0;
  private lastCheckpointAt = 0;
  private lastCheckpointFrames = 0;

  private constructor(db: Database.Database, readonly readOnly = false) {
    this.db = db;
    // A read-only journal (the dashboard's viewer of a past run, `trader status`) is read through
    // all() and the reads below; it prepares no writes.
    const unsettled = db.prepare(UNSETTLED_ORDERS_SQL);
    this.st = readOnly ? { unsettled } : {
      candle: db.prepare(
        'INSERT OR IGNORE INTO candles (symbol, interval, ts_ms, open, high, low, close, volume, received_ms) VALUES (?,?,?,?,?,?,?,?,?)',
      ),
      lastCandle: db.prepare('SELECT MAX(ts_ms) AS ts FROM candles WHERE symbol = ? AND interval = ?'),
      decision: db.prepare(
        `INSERT INTO decisions (symbol, ts_ms, action, side, confidence, agreement, size_fraction, stop_loss_pct, take_profit_pct, reasoning, outputs_json, latency_json, created_ms)
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(symbol, ts_ms) DO NOTHING`,
      ),
      decisionId: db.prepare('SELECT id FROM decisions WHERE symbol = ? AND ts_ms = ?'),
      lastDecision: db.prepare('SELECT MAX(ts_ms) AS ts FROM decisions WHERE symbol = ?'),
      verdict: db.prepare(
        'INSERT OR IGNORE INTO verdicts (decision_id, approved, size_fraction, stop_loss_pct, take_profit_pct, reasons_json) VALUES (?,?,?,?,?,?)',
      ),
      orderIntent: db.prepare(
        `INSERT OR IGNORE INTO orders (client_order_id, symbol, side, type, qty, price, reduce_only, stop_loss_price, take_profit_price, status, decision_id, created_ms, updated_ms)
         VALUES (?,?,?,?,?,?,?,?,?,'intent',?,?,?)`,
      ),
      orderStatus: db.prepare('UPDATE orders SET status = ?, exchange_order_id = COALESCE(?, exchange_order_id), error = ?, updated_ms = ? WHERE client_order_id = ?'),
      order: db.prepare('SELECT * FROM orders WHERE client_order_id = ?'),
      unsettled,
      fill: db.prepare(
        'INSERT OR IGNORE INTO fills (order_id, client_order_id, symbol, side, qty, price, fee, liquidity, reason, ts_ms) VALUES (?,?,?,?,?,?,?,?,?,?)',
      ),
      position: db.prepare('INSERT INTO position_changes (symbol, ts_ms, side, qty, entry_price, cause) VALUES (?,?,?,?,?,?)'),
      event: db.prepare('INSERT INTO events (ts_ms, kind, data_json) VALUES (?,?,?)'),
      latency: db.prepare('INSERT INTO latencies (stage, ms) VALUES (?, ?)'),
      target: db.prepare(
        'INSERT OR IGNORE INTO targets (client_order_id, symbol, candle_ts, kind, side, size_fraction, stop_loss_pct, take_profit_pct) VALUES (?,?,?,?,?,?,?,?)',
      ),
      targetsAt: db.prepare('SELECT * FROM targets WHERE symbol = ? AND candle_ts = ? ORDER BY rowid'),
      candlesFrom: db.prepare('SELECT ts_ms, open, high, low, close, volume FROM candles WHERE symbol = ? AND interval = ? AND ts_ms >= ? ORDER BY ts_ms'),
      decisionAt: db.prepare(
        `SELECT d.id, d.action, d.side, d.confidence, d.agreement, d.size_fraction, d.stop_loss_pct, d.take_profit_pct, d.reasoning,
                v.approved, v.size_fraction AS v_size, v.stop_loss_pct AS v_sl, v.take_profit_pct AS v_tp, v.reasons_json
         FROM decisions d LEFT JOIN verdicts v ON v.decision_id = d.id WHERE d.symbol = ? AND d.ts_ms = ?`,
      ),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      equity: db.prepare('INSERT OR IGNORE INTO equity (symbol, ts_ms, equity, close, position_qty) VALUES (?,?,?,?,?)'),
      layers: db.prepare('INSERT OR IGNORE INTO risk_layers (decision_id, layers_json) VALUES (?, ?)'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
  }

  /**
   * Opens (creating if needed) a journal file in WAL mode. synchronous 'full' (default): every
   * commit is fsynced before it returns (survives power loss). 'normal': commits survive a crash
   * of the process (kill -9) but the last ones may be lost on power loss or an OS crash; saves the
   * fsync per candle (see the README's latency figures).
   *
   * A writer takes the journal's lock (journal-lock.ts): a second trader on the same journal is
   * refused with the holder's pid. An existing journal is checked before anything is written:
   * PRAGMA quick_check, the schema version, and every table with its columns; a damaged one is
   * refused with a recovery hint, and a missing table is never silently recreated. `readOnly`
   * (status, reports) takes no lock, creates nothing, and needs the file to exist. Every failure
   * is a one-line DataError.
   */
  static open(file: string, options: { synchronous?: 'full' | 'normal'; readOnly?: boolean } = {}): Journal {
    const readOnly = options.readOnly === true;
    if (readOnly && !existsSync(file)) throw new DataError(`journal ${file} does not exist`);
    const isNew = !existsSync(file) || statSync(file).size === 0;
    const release = readOnly ? () => {} : lockJournal(file);
    let db: Database.Database | undefined;
    try {
      try {
        db = new Database(file, readOnly ? { readonly: true, fileMustExist: true } : {});
      } catch (err) {
        throw new DataError(`cannot open journal ${file}: ${sqliteMessage(err)}`);
      }
      let version: number;
      try {
        if (!isNew) {
          const check = db.pragma('quick_check', { simple: true });
          if (check !== 'ok') throw new DataError(`journal ${file} is damaged (integrity check: ${String(check).replace(/\s*\n\s*/g, ' ')}); ${RECOVERY_HINT}`);
        }
        version = db.pragma('user_version', { simple: true }) as number;
      } catch (err) {
        if (err instanceof DataError) throw err;
        throw new DataError(`journal ${file} is damaged or not a journal (${sqliteMessage(err)}); ${RECOVERY_HINT}`);
      }
      if (!readOnly) {
        try {
          db.pragma('journal_mode = WAL');
        } catch (err) {
          const m = sqliteMessage(err);
          throw new DataError(`cannot open journal ${file} for writing: ${m}${/READONLY/.test(m) ? ' (the file or its folder is read-only: check its permissions)' : ''}`);
        }
      }
      if (version !== 0 && version !== JOURNAL_SCHEMA_VERSION) {
        throw new DataError(`journal ${file} has schema version ${version}; this trader writes version ${JOURNAL_SCHEMA_VERSION}`);
      }
      if (version === 0 && !isNew && tableColumns(db).size > 0) {
        throw new DataError(`journal ${file} has tables but no schema version: it is not a journal of this trader or was damaged; ${RECOVERY_HINT}`);
      }
      if (version === JOURNAL_SCHEMA_VERSION) {
        const diff = schemaDifference(db);
        if (diff) throw new DataError(`journal ${file} is damaged: ${diff}; ${RECOVERY_HINT}`);
        if (!readOnly) {
          try {
            db.exec(SCHEMA); // adds the ADDED_TABLES an older journal lacks (every other table is there: checked above)
            for (const ix of DROPPED_INDEXES) db.exec(`DROP INDEX IF EXISTS ${ix}`);
          } catch (err) {
            throw new DataError(`cannot update journal ${file}: ${sqliteMessage(err)}`);
          }
        }
      } else if (readOnly) {
        throw new DataError(`journal ${file} is empty: no trader has written it`);
      } else {
        try {
          db.pragma(options.synchronous === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
          db.exec(`BEGIN; ${SCHEMA}; PRAGMA user_version = ${JOURNAL_SCHEMA_VERSION}; COMMIT;`);
        } catch (err) {
          throw new DataError(`cannot create journal ${file}: ${sqliteMessage(err)}`);
        }
      }
      if (!readOnly) {
        db.pragma(options.synchronous === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
        // SQLite's automatic checkpoint runs inside whichever commit crosses 1000 WAL pages: a candle's.
        // checkpoint() runs it between candles instead. Durability is the WAL's either way.
        db.pragma('wal_autocheckpoint = 0');
      }
      db.pragma('foreign_keys = ON');
      const j = new Journal(db, readOnly);
      j.release = release;
      j.file = file;
      return j;
    } catch (err) {
      try {
        db?.close();
      } catch {
        // nothing more to do
      }
      release();
      throw err;
    }
  }

  /**
   * Opens an existing journal read-only (the dashboard's viewer of a past or running journal):
   * never creates the file, never writes; a missing file is a DataError.
   */
  static openReadOnly(file: string): Journal {
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      db.prepare('SELECT COUNT(*) FROM decisions').get();
    } catch (err) {
      throw new DataError(`cannot open journal ${file} read-only: ${(err as Error).message}`, { cause: err });
    }
    return new Journal(db, true);
  }

  /** Whether the journal has a table (old journals lack the equity and risk_layers tables). */
  hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  /** The SQLite journal mode in force ('wal'). */
  get journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  /** Records a closed candle; false when it was already recorded (a replayed or duplicated message). */
  recordCandle(symbol: SymbolId, interval: Interval, c: Candle, receivedMs: number): boolean {
    return this.st.candle!.run(symbol, interval, c.tsMs, c.open, c.high, c.low, c.close, c.volume, receivedMs).changes === 1;
  }

  lastCandleTs(symbol: SymbolId, interval: Interval): number | undefined {
    const r = this.st.lastCandle!.get(symbol, interval) as { ts: number | null };
    return r.ts ?? undefined;
  }

  /** Records a decision (idempotent per symbol and candle); returns its id. */
  recordDecision(symbol: SymbolId, d: TradingDecision, latencyMs?: Readonly<Record<string, number>>): number {
    this.st.decision!.run(
      symbol, d.tsMs, d.action, d.side, d.confidence, d.agreement, d.sizeFraction, d.stopLossPct, d.takeProfitPct,
      d.reasoning, d.outputs ? json(d.outputs) : null, latencyMs ? json(latencyMs) : null, Date.now(),
    );
    return (this.st.decisionId!.get(symbol, d.tsMs) as { id: number }).id;
  }

  /** The candle time of the last decision for a symbol (where a restart resumes). */
  lastDecisionTs(symbol: SymbolId): number | undefined {
    const r = this.st.lastDecision!.get(symbol) as { ts: number | null };
    return r.ts ?? undefined;
  }

  recordVerdict(decisionId: number, v: RiskVerdict): void {
    this.st.verdict!.run(decisionId, v.approved ? 1 : 0, v.sizeFraction, v.stopLossPct, v.takeProfitPct, json(v.reasons));
  }

  /** Every risk layer's result for a decision (what the dashboard shows beside the verdict). */
  recordRiskLayers(decisionId: number, layers: readonly unknown[]): void {
    this.st.layers!.run(decisionId, json(layers));
  }

  /** Equity (and the close it was marked at) after a candle: the equity curve the dashboard draws. */
  recordEquity(symbol: SymbolId, tsMs: number, equity: number, close: number, positionQty: number): void {
    this.st.equity!.run(symbol, tsMs, equity, close, positionQty);
  }

  /** Writes an order intent before it is sent; a second call with the same client id is a no-op. */
  recordOrderIntent(req: OrderRequest, decisionId: number | null, nowMs: number): boolean {
    return (
      this.st.orderIntent!.run(
        req.clientOrderId, req.symbol, req.side, req.type, req.qty, req.price ?? null, req.reduceOnly ? 1 : 0,
        req.stopLossPrice ?? null, req.takeProfitPrice ?? null, decisionId, nowMs, nowMs,
      ).changes === 1
    );
  }

  setOrderStatus(clientOrderId: string, status: JournalOrderStatus, nowMs: number, exchangeOrderId?: string, error?: string): void {
    const r = this.st.orderStatus!.run(status, exchangeOrderId ?? null, error ?? null, nowMs, clientOrderId);
    if (r.changes !== 1) throw new DataError(`journal has no order with client id ${clientOrderId}`);
  }

  order(clientOrderId: string): JournalOrder | undefined {
    const r = this.st.order!.get(clientOrderId) as Record<string, unknown> | undefined;
    return r ? toOrder(r) : undefined;
  }

  /** Orders whose final state the journal does not know: reconcile these with the exchange on start. */
  unsettledOrders(): JournalOrder[] {
    return (this.st.unsettled!.all() as Record<string, unknown>[]).map(toOrder);
  }

  /** Records a fill; duplicates (the same fill reported twice) are ignored. */
  recordFill(f: Fill): boolean {
    return this.st.fill!.run(f.orderId, f.clientOrderId ?? null, f.symbol, f.side, f.qty, f.price, f.fee, f.liquidity, f.reason, f.tsMs).changes === 1;
  }

  recordPosition(symbol: SymbolId, p: Position | undefined, tsMs: number, cause: string): void {
    this.st.position!.run(symbol, tsMs, p?.side ?? null, p?.qty ?? 0, p?.entryPrice ?? null, cause);
  }

  recordEvent(kind: string, data: unknown, tsMs = Date.now()): void {
    this.st.event!.run(tsMs, kind, json(data));
  }

  recordLatency(stage: string, ms: number): void {
    this.st.latency!.run(stage, ms);
  }

  /**
   * Median and 99th percentile of each stage's latency (nearest rank). One pass over the table, sorted
   * in memory (there is no index on the values: it made every latency batch rewrite pages all over it).
   */
  latencyStats(): Record<string, StageLatency> {
    const byStage = new Map<string, number[]>();
    for (const [stage, ms] of this.db.prepare('SELECT stage, ms FROM latencies').raw().iterate() as IterableIterator<[string, number]>) {
      let a = byStage.get(stage);
      if (!a) byStage.set(stage, (a = []));
      a.push(ms);
    }
    const out: Record<string, StageLatency> = {};
    for (const stage of [...byStage.keys()].sort()) {
      const s = Float64Array.from(byStage.get(stage)!).sort();
      const n = s.length;
      const at = (q: number): number => s[Math.min(n - 1, Math.floor(q * (n - 1)))]!;
      out[stage] = { n, p50: at(0.5), p99: at(0.99) };
    }
    return out;
  }

  /** Records the target an order intent carries out (what the venue is asked to hold after it). */
  recordTarget(clientOrderId: string, t: JournalTarget): void {
    this.st.target!.run(clientOrderId, t.symbol, t.candleTs, t.kind, t.side, t.sizeFraction, t.stopLossPct, t.takeProfitPct);
  }

  /** The targets decided at one candle's close, in the order they were recorded. */
  targetsAt(symbol: SymbolId, candleTs: number): (JournalTarget & { readonly clientOrderId: string })[] {
    return (this.st.targetsAt!.all(symbol, candleTs) as Record<string, unknown>[]).map((r) => ({
      clientOrderId: r.client_order_id as string,
      symbol: r.symbol as string,
      candleTs: r.candle_ts as number,
      kind: r.kind as TargetKind,
      side: r.side as JournalTarget['side'],
      sizeFraction: r.size_fraction as number,
      stopLossPct: r.stop_loss_pct as number,
      takeProfitPct: r.take_profit_pct as number,
    }));
  }

  /** Journaled candles of a symbol from `fromMs` on, oldest first (what a restart replays). */
  candles(symbol: SymbolId, interval: Interval, fromMs = -Infinity): Candle[] {
    const from = Number.isFinite(fromMs) ? fromMs : Number.MIN_SAFE_INTEGER;
    return (this.st.candlesFrom!.all(symbol, interval, from) as Record<string, number>[]).map((r) => ({
      tsMs: r.ts_ms!, open: r.open!, high: r.high!, low: r.low!, close: r.close!, volume: r.volume!,
    }));
  }

  /** The decision journaled for one candle and its verdict (undefined when none). */
  decisionAt(symbol: SymbolId, tsMs: number): JournalDecision | undefined {
    const r = this.st.decisionAt!.get(symbol, tsMs) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    const decision: TradingDecision = {
      tsMs, symbol, action: r.action as TradingDecision['action'], side: r.side as TradingDecision['side'],
      confidence: r.confidence as number, agreement: r.agreement as number, sizeFraction: r.size_fraction as number,
      stopLossPct: r.stop_loss_pct as number, takeProfitPct: r.take_profit_pct as number, reasoning: r.reasoning as string,
    };
    const verdict: RiskVerdict | undefined =
      r.approved === null || r.approved === undefined
        ? undefined
        : {
            approved: r.approved === 1, sizeFraction: r.v_size as number, stopLossPct: r.v_sl as number,
            takeProfitPct: r.v_tp as number, reasons: JSON.parse(r.reasons_json as string) as string[],
          };
    return { id: r.id as number, decision, verdict };
  }

  getMeta(key: string): string | undefined {
    return (this.st.getMeta!.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.st.setMeta!.run(key, value);
  }

  /**
   * Runs `fn` in one transaction: all of its writes land, or none (one fsync with synchronous=FULL).
   * A SQLite failure (a full disk, a file made read-only, an I/O error) is a one-line DataError.
   */
  transaction<T>(fn: () => T): T {
    let r: T;
    try {
      r = this.db.transaction(fn)();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_')) throw err;
      const hint = code === 'SQLITE_FULL' ? ': the disk (or the journal\'s size limit) is full; free space and restart, the journal holds every candle up to the last one written'
        : /READONLY/.test(code) ? ': the journal file or its folder became read-only; fix its permissions and restart' : '';
      throw new DataError(`journal ${this.file}: write failed (${sqliteMessage(err)})${hint}`, { cause: err });
    }
    this.commitCount++;
    return r;
  }

  /**
   * Transactions committed through this handle (each one fsync with synchronous=FULL), WAL
   * checkpoints run, and the pages (WAL frames) written since the checkpoint before the last one:
   * checkpoint(true) before and after some work gives the pages that work wrote.
   */
  get writeStats(): { commits: number; checkpoints: number; lastCheckpointFrames: number } {
    return { commits: this.commitCount, checkpoints: this.checkpointCount, lastCheckpointFrames: this.lastCheckpointFrames };
  }

  /**
   * Copies the WAL back into the database file (a PASSIVE checkpoint) once CHECKPOINT_EVERY_COMMITS
   * commits have passed since the last one (`force`: now). Call it off the decision path, after a
   * candle's order went out: the automatic checkpoint is off, so it never lands in a candle's commit.
   * Returns whether it ran.
   */
  checkpoint(force = false): boolean {
    if (this.readOnly || (!force && this.commitCount - this.lastCheckpointAt < CHECKPOINT_EVERY_COMMITS)) return false;
    const r = this.db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    this.lastCheckpointFrames = r[0]?.log ?? 0;
    this.lastCheckpointAt = this.commitCount;
    this.checkpointCount++;
    return true;
  }

  /** Row counts per table, for status lines and tests. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of ['candles', 'decisions', 'verdicts', 'orders', 'targets', 'fills', 'position_changes', 'events']) {
      out[t] = (this.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    }
    return out;
  }

  /** Read-only query access for reports and tests. */
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] {
    return this.db.prepare(sql).all(...params) as T[];
  }

  close(): void {
    try {
      this.db.close();
    } finally {
      this.release();
    }
  }
}

function toOrder(r: Record<string, unknown>): JournalOrder {
  return {
    clientOrderId: r.client_order_id as string,
    symbol: r.symbol as string,
    side: r.side as 'buy' | 'sell',
    type: r.type as 'market' | 'limit',
    qty: r.qty as number,
    price: (r.price as number | null) ?? null,
    reduceOnly: r.reduce_only === 1,
    status: r.status as JournalOrderStatus,
    exchangeOrderId: (r.exchange_order_id as string | null) ?? null,
    decisionId: (r.decision_id as number | null) ?? null,
    createdMs: r.created_ms as number,
    updatedMs: r.updated_ms as number,
    error: (r.error as string | null) ?? null,
  };
}

/**
 * A deterministic client order id (Bybit orderLinkId: <= 36 chars of [A-Za-z0-9_-]) from the run,
 * the symbol, the candle time and a purpose, so a restart re-derives the same id for the same intent.
 */
export function clientOrderId(runTag: string, symbol: SymbolId, candleTsMs: number, purpose: string): string {
  const clean = (s: string, n: number) => s.replace(/[^A-Za-z0-9]/g, '').slice(0, n);
  const id = `${clean(runTag, 6)}-${clean(symbol, 10)}-${candleTsMs.toString(36)}-${clean(purpose, 8)}`;
  if (id.length > 36) throw new DataError(`client order id '${id}' is longer than 36 characters`);
  return id;
}
