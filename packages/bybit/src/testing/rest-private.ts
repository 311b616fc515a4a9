import { formatDecimal } from '@task-agnostic/core';
import { SimReject, type SimAccount, type SimOrder, type WireSide } from './accounts.js';
import type { FeedState, SimMarket } from './market.js';
import { feedOf, requireLinear, type JsonObject, type Query } from './rest-public.js';

const num = (x: number): string => formatDecimal(Math.round(x * 1e8) / 1e8);

export function wireOrder(market: SimMarket, o: SimOrder): JsonObject {
  const f = market.feed(o.symbol)!;
  return {
    orderId: o.orderId, orderLinkId: o.orderLinkId, blockTradeId: '', symbol: o.symbol,
    price: o.price ? market.fmtPrice(f, o.price) : '0', qty: num(o.qty), side: o.side, isLeverage: '', positionIdx: 0,
    orderStatus: o.orderStatus, cancelType: o.orderStatus === 'Cancelled' ? 'CancelByUser' : 'UNKNOWN', rejectReason: 'EC_NoError',
    avgPrice: o.cumExecQty > 0 ? num(o.avgPrice) : '', leavesQty: num(o.orderStatus === 'New' || o.orderStatus === 'PartiallyFilled' ? o.qty - o.cumExecQty : 0),
    leavesValue: '0', cumExecQty: num(o.cumExecQty), cumExecValue: num(o.cumExecValue), cumExecFee: num(o.cumExecFee),
    timeInForce: o.timeInForce, orderType: o.orderType, stopOrderType: '', orderIv: '', triggerPrice: '0',
    takeProfit: o.takeProfit ? market.fmtPrice(f, o.takeProfit) : '0', stopLoss: o.stopLoss ? market.fmtPrice(f, o.stopLoss) : '0',
    tpTriggerBy: 'LastPrice', slTriggerBy: 'LastPrice', triggerDirection: 0, triggerBy: 'LastPrice', lastPriceOnCreated: '',
    reduceOnly: o.reduceOnly, closeOnTrigger: false, smpType: 'None', smpGroup: 0, smpOrderId: '', tpslMode: 'Full',
    tpLimitPrice: '0', slLimitPrice: '0', placeType: '', createdTime: String(o.createdTime), updatedTime: String(o.updatedTime),
  };
}

function str(body: JsonObject, key: string, required = false): string | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new SimReject(10001, `params error: ${key} is required`);
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw new SimReject(10001, `params error: ${key} must be a string`);
  return String(v);
}

function posNum(body: JsonObject, key: string): number | undefined {
  const s = str(body, key);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new SimReject(10001, `params error: ${key}`);
  return n === 0 ? undefined : n;
}

export function createOrder(account: SimAccount, body: JsonObject): JsonObject {
  if (body.category !== 'linear') throw new SimReject(10001, 'params error: category');
  const side = str(body, 'side', true);
  if (side !== 'Buy' && side !== 'Sell') throw new SimReject(10001, `params error: side '${side}'`);
  const type = str(body, 'orderType', true);
  if (type !== 'Market' && type !== 'Limit') throw new SimReject(10001, `params error: orderType '${type}'`);
  const linkId = str(body, 'orderLinkId');
  if (linkId !== undefined && !/^[A-Za-z0-9_-]{1,36}$/.test(linkId)) throw new SimReject(10001, 'params error: orderLinkId');
  const ro = body.reduceOnly;
  const o = account.create({
    symbol: str(body, 'symbol', true)!, side: side as WireSide, orderType: type, qty: Number(str(body, 'qty', true)),
    price: posNum(body, 'price'), timeInForce: str(body, 'timeInForce'), reduceOnly: ro === true || ro === 'true',
    stopLoss: posNum(body, 'stopLoss'), takeProfit: posNum(body, 'takeProfit'), orderLinkId: linkId,
  });
  return { orderId: o.orderId, orderLinkId: o.orderLinkId };
}

export function setLeverage(account: SimAccount, body: JsonObject): JsonObject {
  if (body.category !== 'linear') throw new SimReject(10001, 'params error: category');
  account.setLeverage(str(body, 'symbol', true)!, Number(str(body, 'buyLeverage', true)), Number(str(body, 'sellLeverage', true)));
  return {};
}

export function setMarginMode(account: SimAccount, body: JsonObject): JsonObject {
  const mode = str(body, 'setMarginMode', true);
  if (mode !== 'REGULAR_MARGIN' && mode !== 'ISOLATED_MARGIN' && mode !== 'PORTFOLIO_MARGIN') throw new SimReject(10001, `params error: setMarginMode '${mode}'`);
  account.marginMode = mode;
  return { reasons: [] };
}

export function cancelOrder(account: SimAccount, body: JsonObject): JsonObject {
  if (body.category !== 'linear') throw new SimReject(10001, 'params error: category');
  const id = str(body, 'orderId');
  const link = str(body, 'orderLinkId');
  if (!id && !link) throw new SimReject(10001, 'params error: orderId or orderLinkId is required');
  const o = account.cancel(str(body, 'symbol', true)!, id, link);
  return { orderId: o.orderId, orderLinkId: o.orderLinkId };
}

const isOpen = (o: SimOrder): boolean => o.orderStatus === 'New' || o.orderStatus === 'PartiallyFilled';

/** GET /v5/order/realtime: open orders; with orderId/orderLinkId also a recent closed one. */
export function realtimeOrders(market: SimMarket, account: SimAccount, q: Query): JsonObject {
  requireLinear(q);
  const symbol = q.get('symbol');
  const id = q.get('orderId');
  const link = q.get('orderLinkId');
  let list = account.orders.filter((o) => (!symbol || o.symbol === symbol) && (!id || o.orderId === id) && (!link || o.orderLinkId === link));
  if (!id && !link) list = list.filter(isOpen);
  return { category: 'linear', list: list.reverse().slice(0, 50).map((o) => wireOrder(market, o)), nextPageCursor: '' };
}

export function historyOrders(market: SimMarket, account: SimAccount, q: Query): JsonObject {
  requireLinear(q);
  const symbol = q.get('symbol');
  const id = q.get('orderId');
  const link = q.get('orderLinkId');
  const list = account.orders.filter((o) => !isOpen(o) && (!symbol || o.symbol === symbol) && (!id || o.orderId === id) && (!link || o.orderLinkId === link));
  return { category: 'linear', list: list.reverse().slice(0, 50).map((o) => wireOrder(market, o)), nextPageCursor: '' };
}

export function wirePosition(market: SimMarket, account: SimAccount, f: FeedState): JsonObject {
  const p = account.positions.get(f.symbol);
  const size = p ? Math.abs(p.size) : 0;
  const mark = market.lastPrice(f);
  const fp = (x: number): string => (x > 0 ? market.fmtPrice(f, x) : '0');
  return {
    positionIdx: 0, riskId: 1, riskLimitValue: '2000000', symbol: f.symbol, side: size > 0 ? (p!.size > 0 ? 'Buy' : 'Sell') : '',
    size: num(size), avgPrice: size > 0 ? num(p!.avgPrice) : '0', positionValue: num(size * (p?.avgPrice ?? 0)), tradeMode: 0,
    positionStatus: 'Normal', autoAddMargin: 0, adlRankIndicator: size > 0 ? 2 : 0, leverage: String(p?.leverage ?? account.leverageOf(f.symbol)),
    positionBalance: '0', markPrice: fp(mark), liqPrice: '', bustPrice: '', positionMM: '0', positionIM: '0', tpslMode: 'Full',
    takeProfit: fp(size > 0 ? p!.takeProfit : 0), stopLoss: fp(size > 0 ? p!.stopLoss : 0), trailingStop: '0',
    unrealisedPnl: num(account.unrealised(f.symbol)), curRealisedPnl: '0', cumRealisedPnl: num(p?.cumRealisedPnl ?? 0), seq: 1,
    isReduceOnly: false, mmrSysUpdatedTime: '', leverageSysUpdatedTime: '',
    createdTime: String(p?.createdTime ?? 0), updatedTime: String(p?.updatedTime ?? 0),
  };
}

export function positionList(market: SimMarket, account: SimAccount, q: Query): JsonObject {
  requireLinear(q);
  const symbol = q.get('symbol');
  if (!symbol && !q.get('settleCoin')) throw new SimReject(10001, 'params error: symbol or settleCoin is required');
  const feeds = symbol ? [feedOf(market, symbol)] : [...market.feeds.values()];
  const list = feeds.map((f) => wirePosition(market, account, f));
  return { category: 'linear', list, nextPageCursor: '' };
}

export function walletBalance(account: SimAccount, q: Query): JsonObject {
  const type = q.get('accountType');
  if (type !== 'UNIFIED') throw new SimReject(10001, `params error: accountType '${type ?? ''}' (UNIFIED only)`);
  return { list: [walletEntry(account)] };
}

export function walletEntry(account: SimAccount): JsonObject {
  const eq = account.equity();
  const avail = account.available();
  const upl = eq - account.wallet;
  return {
    totalEquity: num(eq), accountIMRate: '0', totalMarginBalance: num(eq), totalInitialMargin: num(eq - avail), accountType: 'UNIFIED',
    totalAvailableBalance: num(avail), accountMMRate: '0', totalPerpUPL: num(upl), totalWalletBalance: num(account.wallet), accountLTV: '0',
    totalMaintenanceMargin: '0',
    coin: [{
      availableToBorrow: '', bonus: '0', accruedInterest: '0', availableToWithdraw: num(avail), totalOrderIM: '0', equity: num(eq),
      totalPositionMM: '0', usdValue: num(eq), unrealisedPnl: num(upl), collateralSwitch: true, spotHedgingQty: '0', borrowAmount: '0',
      totalPositionIM: num(eq - avail), walletBalance: num(account.wallet), cumRealisedPnl: '0', locked: '0', marginCollateral: true, coin: 'USDT',
    }],
  };
}

export function coinInfo(): JsonObject {
  return {
    rows: [{
      name: 'USDT', coin: 'USDT', remainAmount: '5000000',
      chains: [{ chainType: 'ETH', confirmation: '6', withdrawFee: '1', depositMin: '0', withdrawMin: '2', chain: 'ETH', chainDeposit: '1', chainWithdraw: '1', minAccuracy: '4', withdrawPercentageFee: '0' }],
    }],
  };
}
