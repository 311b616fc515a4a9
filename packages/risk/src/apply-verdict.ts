import type { PositionSide, TradingDecision } from '@task-agnostic/core';
import type { GateVerdict } from './gate.js';

/** What the venue should hold after a decision has been through the gate. */
export interface GatedTarget {
  readonly side: 'long' | 'short' | 'flat';
  readonly sizeFraction: number;
  readonly stopLossPct: number;
  readonly takeProfitPct: number;
  /** 'kill': the kill switch flattens; 'decision': the (possibly shrunk) decision. */
  readonly kind: 'decision' | 'kill';
}

/**
 * Applies the gate's verdict to a decision, given the side of the open position (undefined when
 * flat): the kill switch flattens; 'hold' keeps what is there; a flat decision closes (closing is
 * never blocked); a vetoed entry changes nothing, nor does one the gate keeps (same side, size within
 * its resize band); an approved one gets the verdict's size and exits.
 * Returns null when nothing should change.
 */
export function applyVerdict(d: TradingDecision, v: GateVerdict, openSide: PositionSide | undefined): GatedTarget | null {
  const flat = { side: 'flat', sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0 } as const;
  if (v.killed) return openSide ? { ...flat, kind: 'kill' } : null;
  if (d.action === 'hold') return null;
  if (d.side === 'flat') return openSide ? { ...flat, kind: 'decision' } : null;
  if (!v.approved) return null;
  // the gate's resize band: the held position already is (close to) what is asked
  if (v.keep && openSide === d.side) return null;
  return { side: d.side, sizeFraction: v.sizeFraction, stopLossPct: v.stopLossPct, takeProfitPct: v.takeProfitPct, kind: 'decision' };
}
