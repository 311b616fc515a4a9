/**
 * Exchange rules on every order: each linear instrument's quantity step, minimum and maximum
 * quantity, minimum notional, price tick and maximum leverage, loaded once per symbol and cached
 * (InstrumentCatalog), and the rounding and checks an order goes through before it is sent
 * (conformOrder). Bybit rejects a quantity off its step, a price off its tick and an order below
 * the minimum notional; these are caught here, with a reason, instead of at the exchange.
 */
import { ConfigError, TaError, type OrderRequest, type SymbolId } from '@task-agnostic/core';
import type { Instrument } from './wire.js';

/** The part of an instrument an order must respect. */
export type InstrumentRules = Pick<Instrument, 'symbol' | 'tickSize' | 'qtyStep' | 'minOrderQty' | 'maxOrderQty' | 'minNotional' | 'maxLeverage'>;

/** Instrument info could not be loaded or is unusable: live trading must not start. */
export class InstrumentInfoError extends TaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INSTRUMENT', message, options);
  }
}

/** Digits after the point of a step such as 0.001 (3) or 1 (0). */
export function stepDecimals(step: number): number {
  let d = 0;
  while (d < 12 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-9 * 10 ** d) d++;
  return d;
}

/**
 * qty rounded toward zero to a whole number of steps, written with the step's decimals (no
 * 0.30000000000000004): a step of 0.001 turns 0.12345 into 0.123. The 1e-9 guards a qty that is
 * already on the step but came out of a division a hair below it.
 */
export function roundQtyDown(qty: number, step: number): number {
  if (!(step > 0)) return qty;
  const n = Math.floor(Math.abs(qty) / step + 1e-9);
  return Math.sign(qty) * Number((n * step).toFixed(stepDecimals(step)));
}

/** price rounded to the tick ('nearest', or 'down' / 'up' for a side that must not cross a level). */
export function roundToTick(price: number, tick: number, mode: 'nearest' | 'down' | 'up' = 'nearest'): number {
  if (!(tick > 0)) return price;
  const k = price / tick;
  const n = mode === 'down' ? Math.floor(k + 1e-9) : mode === 'up' ? Math.ceil(k - 1e-9) : Math.round(k);
  return Number((n * tick).toFixed(stepDecimals(tick)));
}

/** An order after the rules: sent as `order`, or skipped with the reason (never sent). */
export type ConformedOrder = { readonly ok: true; readonly order: OrderRequest; readonly adjusted: readonly string[] } | { readonly ok: false; readonly reason: string };

/**
 * Rounds an order to the instrument's rules and checks it: qty down to the step (capped at the
 * maximum), the limit price to the nearest tick, the stop-loss and take-profit to the tick toward
 * the price (a long's stop rounds up and its target down, so neither level lies further away than
 * asked), then minimum quantity and minimum
 * notional (qty x refPrice, or the limit price). A reduce-only order is exempt from the minimum
 * notional (Bybit lets a position close whatever its size). `refPrice` is the price the order is
 * expected to fill at (the last close for a market order).
 */
export function conformOrder(req: OrderRequest, rules: InstrumentRules, refPrice: number): ConformedOrder {
  if (req.symbol !== rules.symbol) throw new ConfigError(`rules of ${rules.symbol} applied to an order for ${req.symbol}`, 'symbol');
  const adjusted: string[] = [];
  let qty = roundQtyDown(req.qty, rules.qtyStep);
  if (qty > rules.maxOrderQty) {
    adjusted.push(`qty ${qty} capped at the maximum ${rules.maxOrderQty}`);
    qty = roundQtyDown(rules.maxOrderQty, rules.qtyStep);
  }
  if (qty !== req.qty) adjusted.push(`qty ${req.qty} rounded to ${qty} (step ${rules.qtyStep})`);
  if (!(qty >= rules.minOrderQty)) {
    return { ok: false, reason: `${req.symbol} ${req.side} qty ${qty} (from ${req.qty}) is below the minimum order qty ${rules.minOrderQty}` };
  }
  const price = req.price !== undefined ? roundToTick(req.price, rules.tickSize) : undefined;
  if (price !== undefined && price !== req.price) adjusted.push(`price ${req.price} rounded to ${price} (tick ${rules.tickSize})`);
  if (price !== undefined && !(price > 0)) return { ok: false, reason: `${req.symbol} limit price ${req.price} rounds to ${price} at tick ${rules.tickSize}` };
  const px = price ?? refPrice;
  if (!(px > 0)) return { ok: false, reason: `${req.symbol}: no price to check the notional against (got ${px})` };
  const notional = qty * px;
  if (!req.reduceOnly && notional < rules.minNotional) {
    return { ok: false, reason: `${req.symbol} ${req.side} ${qty} x ${px} = ${notional.toFixed(4)} USDT after rounding is below the minimum notional ${rules.minNotional} USDT` };
  }
  const long = req.side === 'buy';
  // A long's stop lies below the price: rounding it up keeps the loss at most what was asked; its target above: rounding down.
  const sl = req.stopLossPrice !== undefined ? roundToTick(req.stopLossPrice, rules.tickSize, long ? 'up' : 'down') : undefined;
  const tp = req.takeProfitPrice !== undefined ? roundToTick(req.takeProfitPrice, rules.tickSize, long ? 'down' : 'up') : undefined;
  if (sl !== undefined && sl !== req.stopLossPrice) adjusted.push(`stop-loss ${req.stopLossPrice} rounded to ${sl}`);
  if (tp !== undefined && tp !== req.takeProfitPrice) adjusted.push(`take-profit ${req.takeProfitPrice} rounded to ${tp}`);
  const order: OrderRequest = {
    ...req,
    qty,
    ...(price !== undefined ? { price } : {}),
    ...(sl !== undefined && sl > 0 ? { stopLossPrice: sl } : {}),
    ...(tp !== undefined && tp > 0 ? { takeProfitPrice: tp } : {}),
  };
  if (sl !== undefined && !(sl > 0)) delete (order as { stopLossPrice?: number }).stopLossPrice;
  if (tp !== undefined && !(tp > 0)) delete (order as { takeProfitPrice?: number }).takeProfitPrice;
  return { ok: true, order, adjusted };
}

/** The leverage to set: the wanted one, at most the instrument's maximum. */
export function leverageFor(wanted: number, rules: InstrumentRules): number {
  return Math.max(1, Math.min(wanted, rules.maxLeverage));
}

/** Where instruments come from (BybitClient.instruments). */
export interface InstrumentSource {
  instruments(symbol?: SymbolId): Promise<Instrument[]>;
}

/**
 * The rules of the traded symbols, loaded once and cached. load() refuses a symbol the exchange
 * does not list (naming it) or does not trade, and turns any failure to load into an
 * InstrumentInfoError: the caller stops before the first order.
 */
export class InstrumentCatalog {
  private readonly rules = new Map<SymbolId, InstrumentRules>();

  /** Rules given directly (tests, or a cache kept elsewhere). */
  static of(list: readonly InstrumentRules[]): InstrumentCatalog {
    const c = new InstrumentCatalog();
    for (const r of list) c.rules.set(r.symbol, r);
    return c;
  }

  async load(source: InstrumentSource, symbols: readonly SymbolId[]): Promise<this> {
    const want = symbols.filter((s) => !this.rules.has(s));
    if (want.length === 0) return this;
    let list: Instrument[];
    try {
      // One symbol: one request; several: the whole linear list (one page of up to 1000 on Bybit).
      list = want.length === 1 ? await source.instruments(want[0]) : await source.instruments();
    } catch (err) {
      throw new InstrumentInfoError(`cannot load instrument info for ${want.join(', ')}: ${(err as Error).message}`, { cause: err });
    }
    const bySymbol = new Map(list.map((i) => [i.symbol, i]));
    const unknown = want.filter((s) => !bySymbol.has(s));
    if (unknown.length) throw new ConfigError(`unknown symbol${unknown.length > 1 ? 's' : ''} on the exchange (linear USDT perpetuals): ${unknown.join(', ')}`, 'symbols');
    for (const s of want) {
      const i = bySymbol.get(s)!;
      if (i.status !== 'Trading') throw new ConfigError(`symbol ${s} is not trading on the exchange (status ${i.status})`, 'symbols');
      for (const k of ['tickSize', 'qtyStep', 'minOrderQty', 'maxOrderQty', 'maxLeverage'] as const) {
        if (!(i[k] > 0)) throw new InstrumentInfoError(`instrument info of ${s} has no usable ${k} (${i[k]})`);
      }
      this.rules.set(s, { symbol: s, tickSize: i.tickSize, qtyStep: i.qtyStep, minOrderQty: i.minOrderQty, maxOrderQty: i.maxOrderQty, minNotional: i.minNotional, maxLeverage: i.maxLeverage });
    }
    return this;
  }

  has(symbol: SymbolId): boolean {
    return this.rules.has(symbol);
  }

  /** The cached rules; an InstrumentInfoError when the symbol was never loaded (no order goes out without rules). */
  get(symbol: SymbolId): InstrumentRules {
    const r = this.rules.get(symbol);
    if (!r) throw new InstrumentInfoError(`no instrument info loaded for ${symbol}: load it before trading`);
    return r;
  }

  symbols(): SymbolId[] {
    return [...this.rules.keys()];
  }
}
