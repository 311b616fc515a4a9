/**
 * Where orders go. The trading loop talks to one Venue: PaperVenue is the backtest package's
 * SimulatedAccount (the SAME fill model runBacktest uses, so a paper run and a backtest of the same
 * decisions make the same trades), ExchangeVenue sends real orders through core's Exchange
 * interface (the Bybit client, or the Bybit simulator behind it).
 */
import type { AccountConfigInput, PortfolioAccount } from '@task-agnostic/backtest';
import { SimulatedAccount } from '@task-agnostic/backtest';
import { BybitNetworkError, BybitProtocolError, conformOrder, isTransientError, type InstrumentRules } from '@task-agnostic/bybit';
import { DataError, holdDecision, signedQty } from '@task-agnostic/core';
import type { Balance, Candle, Exchange, Fill, Order, OrderRequest, Position, SymbolId, Trade } from '@task-agnostic/core';

/** What the venue is asked to hold after the order: side x sizeFraction of equity, with exits. */
export interface Target {
  readonly side: 'long' | 'short' | 'flat';
  readonly sizeFraction: number;
  readonly stopLossPct: number;
  readonly takeProfitPct: number;
}

/** The outcome of sending one target. */
export interface Execution {
  /**
   * 'accepted': the venue has it (paper: pending until the next open); 'noop': nothing to do;
   * 'unknown': the request may or may not have reached the exchange (a timeout, a lost answer):
   * its fate is known only once its signed timestamp plus the recv window has passed.
   */
  readonly status: 'accepted' | 'filled' | 'noop' | 'rejected' | 'unknown';
  readonly order?: Order;
  readonly fills: readonly Fill[];
  readonly error?: string;
  /** Why nothing was sent ('noop'): e.g. below the instrument's minimum notional after rounding. */
  readonly reason?: string;
}

export interface Venue {
  readonly kind: 'paper' | 'exchange';
  readonly symbol: SymbolId;
  /**
   * A closed bar arrived: returns the fills it caused (paper: orders at its open, stops inside it).
   * `history`: a warm-up candle from a backfill (no trading on it; an exchange is not asked).
   */
  onBar(candle: Candle, history?: boolean): Promise<readonly Fill[]>;
  /** Moves the position toward `target` with one idempotent order (clientOrderId). */
  execute(target: Target, clientOrderId: string): Promise<Execution>;
  /** Looks up an order the journal sent (or may have sent) before a crash. */
  findOrder(clientOrderId: string): Promise<Order | undefined>;
  /** Closes the position now (graceful exit / kill switch on a live venue). */
  flattenNow(clientOrderId: string): Promise<readonly Fill[]>;
  position(): Position | undefined;
  equity(): number;
  balance(): Balance;
  /** Closed round trips known to the venue (paper: all; exchange: none tracked locally). */
  trades(): readonly Trade[];
}

/** The paper account: backtest's SimulatedAccount, driven exactly as runBacktest drives it. */
export class PaperVenue implements Venue {
  readonly kind = 'paper' as const;
  readonly account: SimulatedAccount;
  private pendingClientId: string | null = null;

  /**
   * A lone paper account, or (with `portfolio`) this symbol's ledger in one account shared by every
   * traded symbol: equity and balance are then the portfolio's.
   */
  constructor(readonly symbol: SymbolId, config: AccountConfigInput = {}, barMs?: number, readonly portfolio?: PortfolioAccount) {
    this.account = portfolio ? portfolio.account(symbol) : new SimulatedAccount({ ...config, symbol }, barMs === undefined ? {} : { barMs });
  }

  async onBar(candle: Candle): Promise<readonly Fill[]> {
    return this.onBarSync(candle);
  }

  /** Same as onBar without the promise (the replay of a restart). */
  onBarSync(candle: Candle): Fill[] {
    const fills = this.account.onBar(candle);
    const link = this.pendingClientId;
    this.pendingClientId = null;
    // Fills of a target carry no client id in the account: tie the signal fills at this open to the intent.
    return fills.map((f) => (link && f.reason === 'signal' && f.tsMs === candle.tsMs ? { ...f, clientOrderId: link } : f));
  }

  async execute(target: Target, clientOrderId: string): Promise<Execution> {
    return this.executeSync(target, clientOrderId);
  }

  executeSync(target: Target, clientOrderId: string): Execution {
    const d = {
      ...holdDecision(this.account.nowMs(), 'target'),
      action: target.side === 'long' ? 'buy' : target.side === 'short' ? 'sell' : ('sell' as const),
      side: target.side,
      sizeFraction: target.sizeFraction,
      stopLossPct: target.stopLossPct,
      takeProfitPct: target.takeProfitPct,
    } as const;
    const before = this.account.fillLog.length;
    this.account.submitDecision(d);
    this.pendingClientId = clientOrderId;
    const fills: Fill[] = [];
    for (let i = before; i < this.account.fillLog.length; i++) fills.push({ ...this.account.fillLog.at(i), clientOrderId });
    return { status: fills.length ? 'filled' : 'accepted', fills };
  }

  async findOrder(): Promise<Order | undefined> {
    return undefined;
  }

  async flattenNow(clientOrderId: string): Promise<readonly Fill[]> {
    return this.flattenSync(clientOrderId);
  }

  flattenSync(clientOrderId: string): Fill[] {
    const before = this.account.fillLog.length;
    this.account.flatten('flatten');
    this.pendingClientId = null;
    const out: Fill[] = [];
    for (let i = before; i < this.account.fillLog.length; i++) out.push({ ...this.account.fillLog.at(i), clientOrderId });
    return out;
  }

  position(): Position | undefined {
    return this.account.position();
  }
  equity(): number {
    return this.portfolio ? this.portfolio.equity : this.account.equity;
  }
  balance(): Balance {
    return this.portfolio ? this.portfolio.balance() : this.account.balance();
  }
  trades(): readonly Trade[] {
    return this.account.trades;
  }
}

export interface ExchangeVenueOptions {
  /**
   * The instrument's rules (InstrumentCatalog.get(symbol)): every order is rounded to its qty step
   * and tick and checked against its minimum qty and notional before it is sent (conformOrder).
   */
  readonly rules?: InstrumentRules;
  /**
   * The recv window the exchange client signs with (ms; default the client's `recvWindowMs`, else
   * Bybit's 5000): a request not processed by its signed timestamp plus this is refused.
   */
  readonly recvWindowMs?: number;
  /** Added to the recv window before an order of unknown fate is taken as never placed (clock skew; default 2000 ms). */
  readonly unknownMarginMs?: number;
  /** Without `rules`: quantity step (Bybit BTCUSDT: 0.001); orders are rounded toward zero. */
  readonly qtyStep?: number;
  /** Without `rules`: orders smaller than this (base units) are not sent. */
  readonly minQty?: number;
  /** A same-side re-size is skipped when smaller than this fraction of the target (as the paper account). */
  readonly rebalanceThreshold?: number;
}

const roundDown = (q: number, step: number): number => (step > 0 ? Math.floor(q / step + 1e-9) * step : q);

/**
 * Real orders through core's Exchange (Bybit client; in tests the Bybit simulator). The target is
 * turned into one market order for the difference between the target and the current position,
 * sized on the exchange's equity at the last close; a reversal is one order (one-way mode).
 */
export class ExchangeVenue implements Venue {
  readonly kind = 'exchange' as const;
  private pos: Position | undefined;
  private bal: Balance = { equity: 0, available: 0, currency: 'USDT' };
  private lastClose = NaN;
  private readonly qtyStep: number;
  private readonly minQty: number;
  private readonly threshold: number;
  readonly rules: InstrumentRules | undefined;
  /** Round trips closed on the exchange, built from executions (the strategy layer reads their returns). */
  private readonly closed: Trade[] = [];
  /** Why the last orderFor() sent nothing (undefined when it built an order). */
  lastSkipReason: string | undefined;
  /** How long after its last signing an order of unknown fate can still reach the exchange (recv window + margin). */
  readonly unknownForMs: number;
  /** Client ids of orders this venue sent or was told are ours (their fills are journaled from their own reports). */
  private readonly ownIds = new Set<string>();
  /** Fills of executions we did not place (a position's stop-loss / take-profit), found since the last onBar. */
  private external: Fill[] = [];

  constructor(readonly symbol: SymbolId, readonly exchange: Exchange, options: ExchangeVenueOptions = {}) {
    this.rules = options.rules;
    const clientWindow = (exchange as { recvWindowMs?: unknown }).recvWindowMs;
    this.unknownForMs = (options.recvWindowMs ?? (typeof clientWindow === 'number' ? clientWindow : 5_000)) + (options.unknownMarginMs ?? 2_000);
    this.qtyStep = options.rules?.qtyStep ?? options.qtyStep ?? 0.001;
    this.minQty = options.rules?.minOrderQty ?? options.minQty ?? this.qtyStep;
    this.threshold = options.rebalanceThreshold ?? 0.1;
  }

  /** Reads position and balance from the exchange (start-up reconciliation and after each bar). */
  async refresh(): Promise<void> {
    const before = this.pos;
    const [positions, balance] = await Promise.all([this.exchange.positions(this.symbol), this.exchange.balance()]);
    this.pos = positions.find((p) => p.symbol === this.symbol && p.qty > 0);
    this.bal = balance;
    // A position closed or cut on the exchange between candles (its stop-loss or take-profit executed):
    // a round trip the strategy layer must see. Priced at the level that executed when the
    // position carried one on that side of the last close, else at the last close.
    const own = this.ownFillSinceRefresh;
    this.ownFillSinceRefresh = false;
    // (after one of our own fills the change is ours, already recorded from its execution)
    if (before && !own && this.lastClose > 0) {
      const cut = before.qty - (this.pos && this.pos.side === before.side ? this.pos.qty : 0);
      if (cut > 1e-12) {
        const long = before.side === 'long';
        const stopHit = before.stopLossPrice !== undefined && (long ? this.lastClose <= before.stopLossPrice * 1.01 : this.lastClose >= before.stopLossPrice * 0.99);
        const px = stopHit ? before.stopLossPrice! : before.takeProfitPrice ?? this.lastClose;
        const found = await this.closingFillsSince(before.openedMs ?? this.lastCloseTs, before).catch(() => []);
        if (found.length) {
          // the exchange's own executions: exact price, fee and reason
          for (const f of found) this.recordClose(before, Math.min(f.qty, cut), f.price, f.fee, f.tsMs, f.reason === 'signal' ? 'signal' : f.reason === 'take_profit' ? 'take_profit' : 'stop_loss');
          this.external.push(...found);
        } else this.recordClose(before, cut, px, 0, this.lastCloseTs, stopHit ? 'stop_loss' : before.takeProfitPrice ? 'take_profit' : 'signal');
      }
    }
  }

  /** Marks a client id as ours (an order adopted at a restart): its fills come from its own report. */
  adopt(clientOrderId: string): void {
    this.ownIds.add(clientOrderId);
  }

  /**
   * Executions on the exchange that we did not place (a position's stop-loss or take-profit), updated
   * at or after `sinceMs` (exchange clock), as fills with the exchange's price and fee. Needs an
   * exchange that lists closed orders (BybitClient.orderHistory); otherwise none.
   */
  async closingFillsSince(sinceMs: number, levels?: Pick<Position, 'stopLossPrice' | 'takeProfitPrice'>): Promise<Fill[]> {
    const history = (this.exchange as { orderHistory?: (symbol: SymbolId) => Promise<Order[]> }).orderHistory;
    if (typeof history !== 'function') return [];
    const orders = await history.call(this.exchange, this.symbol);
    const out: Fill[] = [];
    for (const o of orders) {
      if (o.symbol !== this.symbol || !(o.filledQty > 0) || o.updatedMs < sinceMs || this.ownIds.has(o.clientOrderId) || !o.reduceOnly) continue;
      for (const f of fillsOf(o)) out.push({ ...f, reason: exitReason(f.price, levels) });
    }
    return out.reverse(); // oldest first
  }

  private lastCloseTs = 0;
  private ownFillSinceRefresh = false;

  private recordClose(before: Position, qty: number, price: number, fee: number, tsMs: number, reason: Trade['exitReason']): void {
    const s = before.side === 'long' ? 1 : -1;
    const pnl = s * qty * (price - before.entryPrice) - fee;
    this.closed.push({
      symbol: this.symbol, side: before.side, qty, entryMs: before.openedMs ?? tsMs, exitMs: tsMs, entryPrice: before.entryPrice, exitPrice: price,
      pnl, returnPct: pnl / (qty * before.entryPrice), fees: fee, funding: 0, exitReason: reason,
    });
    if (this.closed.length > 200) this.closed.shift();
  }

  /** An execution of one of our orders (placeOrder's report): closes round trips it reduces. */
  private onExecution(before: Position | undefined, fills: readonly Fill[]): void {
    if (!before) return;
    for (const f of fills) {
      const reduces = (before.side === 'long') === (f.side === 'sell');
      if (!reduces) continue;
      this.recordClose(before, Math.min(f.qty, before.qty), f.price, f.fee, f.tsMs, 'signal');
    }
  }

  async onBar(candle: Candle, history = false): Promise<readonly Fill[]> {
    this.lastClose = candle.close;
    this.lastCloseTs = candle.tsMs;
    // Position and balance as the exchange has them now (stops and targets fill there between candles).
    if (!history) await this.refresh();
    return this.takeExternalFills();
  }

  /** Stop-loss / take-profit executions found by the last refreshes, not yet handed out (then cleared). */
  takeExternalFills(): Fill[] {
    const out = this.external;
    this.external = [];
    return out;
  }

  /** The order that moves the current position to the target, or null when none is needed. */
  orderFor(target: Target, clientOrderId: string): OrderRequest | null {
    if (!(this.lastClose > 0)) throw new DataError('exchange venue: no closed candle seen yet, cannot size an order');
    const s = target.side === 'long' ? 1 : target.side === 'short' ? -1 : 0;
    const targetQty = s * roundDown((target.sizeFraction * this.bal.equity) / this.lastClose, this.qtyStep);
    const q = signedQty(this.pos);
    if (q !== 0 && targetQty !== 0 && q > 0 === targetQty > 0 && Math.abs(targetQty - q) <= this.threshold * Math.abs(targetQty)) return null;
    const delta = roundDown(Math.abs(targetQty - q), this.qtyStep) * Math.sign(targetQty - q);
    this.lastSkipReason = undefined;
    if (Math.abs(delta) < this.minQty) {
      if (delta !== 0) this.lastSkipReason = `${this.symbol}: change of ${Math.abs(delta)} is below the minimum order qty ${this.minQty}`;
      return null;
    }
    const reducing = targetQty === 0 || (q !== 0 && q > 0 === targetQty > 0 && Math.abs(targetQty) < Math.abs(q));
    const px = this.lastClose;
    const req: OrderRequest = {
      symbol: this.symbol,
      side: delta > 0 ? 'buy' : 'sell',
      type: 'market',
      qty: Math.abs(delta),
      clientOrderId,
      ...(reducing ? { reduceOnly: true } : {}),
      ...(!reducing && target.stopLossPct > 0 ? { stopLossPrice: px * (1 - s * target.stopLossPct) } : {}),
      ...(!reducing && target.takeProfitPct > 0 ? { takeProfitPrice: px * (1 + s * target.takeProfitPct) } : {}),
    };
    if (!this.rules) return req;
    // The exchange's rules: qty to the step, levels to the tick, minimum qty and notional.
    const r = conformOrder(req, this.rules, px);
    if (!r.ok) {
      this.lastSkipReason = r.reason;
      return null;
    }
    return r.order;
  }

  async execute(target: Target, clientOrderId: string): Promise<Execution> {
    const req = this.orderFor(target, clientOrderId);
    if (!req) return { status: 'noop', fills: [], ...(this.lastSkipReason ? { reason: this.lastSkipReason } : {}) };
    return this.send(req);
  }

  async send(req: OrderRequest): Promise<Execution> {
    this.ownIds.add(req.clientOrderId);
    try {
      const before = this.pos;
      const order = await this.exchange.placeOrder(req);
      const fills = fillsOf(order);
      this.onExecution(before, fills);
      if (fills.length) this.ownFillSinceRefresh = true;
      return { status: order.status === 'filled' ? 'filled' : order.status === 'rejected' ? 'rejected' : 'accepted', order, fills: fillsOf(order) };
    } catch (err) {
      // A timeout or an unreadable answer: the exchange may have the order (or get it later, while
      // the request is held somewhere). Anything else was refused before or by the exchange.
      const unknown = err instanceof BybitNetworkError || err instanceof BybitProtocolError;
      return { status: unknown ? 'unknown' : 'rejected', fills: [], error: (err as Error).message };
    }
  }

  findOrder(clientOrderId: string): Promise<Order | undefined> {
    return this.exchange.findOrder(this.symbol, clientOrderId);
  }

  async flattenNow(clientOrderId: string): Promise<readonly Fill[]> {
    await this.refresh();
    const p = this.pos;
    if (!p) return [];
    const r = await this.send({ symbol: this.symbol, side: p.side === 'long' ? 'sell' : 'buy', type: 'market', qty: p.qty, reduceOnly: true, clientOrderId });
    if (r.status === 'rejected' || r.status === 'unknown') throw new DataError(`${this.symbol}: flatten order ${clientOrderId} ${r.status === 'unknown' ? 'has no answer' : 'was rejected'}: ${r.error ?? ''}`);
    this.pos = undefined; // closed by our order: refresh() must not count it again as a stop
    await this.refresh();
    return r.fills;
  }

  position(): Position | undefined {
    return this.pos;
  }
  equity(): number {
    return this.bal.equity;
  }
  balance(): Balance {
    return this.bal;
  }
  /** Round trips closed on the exchange since start: our orders' executions and stops / targets seen between candles. */
  trades(): readonly Trade[] {
    return this.closed;
  }
}

/** Whether an error of a venue call may pass by itself (a network error, a 5xx, a rate limit, an IP ban): see bybit's isTransientError. */
export function isTransientVenueError(err: unknown): boolean {
  return isTransientError(err);
}

/** Which exit level an execution of ours-not-placed was: the nearer of the position's stop-loss and take-profit. */
function exitReason(price: number, levels: Pick<Position, 'stopLossPrice' | 'takeProfitPrice'> | undefined): Fill['reason'] {
  const sl = levels?.stopLossPrice;
  const tp = levels?.takeProfitPrice;
  if (sl === undefined && tp === undefined) return 'stop_loss';
  if (tp === undefined) return 'stop_loss';
  if (sl === undefined) return 'take_profit';
  return Math.abs(price - sl) <= Math.abs(price - tp) ? 'stop_loss' : 'take_profit';
}

/**
 * The fill an exchange order report implies: its filled quantity at the average price, with the
 * fee the report carries (Bybit's cumExecFee; 0 where a venue reports none). One aggregated fill per
 * order: Bybit's order report does not list the individual executions.
 */
export function fillsOf(order: Order): Fill[] {
  if (!(order.filledQty > 0) || order.avgFillPrice === undefined) return [];
  return [
    {
      orderId: order.id,
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      side: order.side,
      qty: order.filledQty,
      price: order.avgFillPrice,
      fee: order.fee ?? 0,
      liquidity: 'taker',
      reason: 'signal',
      tsMs: order.updatedMs,
    },
  ];
}
