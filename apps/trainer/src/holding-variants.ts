/**
 * How a fitted decision policy holds its positions. The fused strategy used to enter at fitted
 * thresholds and then be closed by the source's 1.5% stop / 2.5% take-profit within hours, and
 * re-sized on every bar as the volatility forecast moved, so fees of many short trades dominated.
 * The policy fit scores these variants on the validation bars (at the thresholds fitted with the
 * configured risk), keeps the best that still trades enough, and refits the thresholds under it.
 * Each variant is plain risk-config overrides; the chosen one travels in the artifact
 * (FusionPolicy.risk) and the trainer's backtest and the trader merge it over their risk config.
 */

export interface HoldingVariant {
  /** Short name, stored in the policy's options as `holding`. */
  readonly name: string;
  /** Risk-config overrides (none: the configured risk as it is). */
  readonly risk?: Readonly<Record<string, unknown>>;
  /** 'long-only': a short decision closes the long instead (fusion's options.sides). Default: both sides. */
  readonly sides?: 'long-only';
}

/** Share of the held size within which a same-side decision keeps the position (see risk's sizing.resizeBand). */
export const HOLDING_RESIZE_BAND = 0.5;

/**
 * The candidates, the configured risk first (ties keep it):
 * - configured: as the risk config says (the source's regime exits, re-sizing every bar);
 * - resize-band: the same exits, but a held position is only re-sized when the asked size differs by more than half;
 * - vol-exits-2x3: stop 2 and take-profit 3 expected moves over the label horizon (sigma x sqrt(h)), plus the band;
 * - vol-exits-3x5: wider, 3 and 5 expected moves, plus the band (positions held about as long as the label looks ahead);
 * and each of them long-only ('<name>+long-only': the short signal only closes a long), since a
 * market with a drift may reward the direction head's timing of the long side but not its shorts.
 */
export function holdingVariants(horizonBars: number): HoldingVariant[] {
  if (!(Number.isInteger(horizonBars) && horizonBars > 0)) throw new RangeError(`the holding horizon must be a positive whole number of bars, got ${horizonBars}`);
  const band = { sizing: { resizeBand: HOLDING_RESIZE_BAND } };
  const vol = (stop: number, take: number) => ({ exits: { mode: 'volatility', stopVolMultiple: stop, takeProfitVolMultiple: take, horizonBars }, ...band });
  const both: HoldingVariant[] = [
    { name: 'configured' },
    { name: 'resize-band', risk: band },
    { name: 'vol-exits-2x3', risk: vol(2, 3) },
    { name: 'vol-exits-3x5', risk: vol(3, 5) },
  ];
  return [...both, ...both.map((v): HoldingVariant => ({ ...v, name: `${v.name}+long-only`, sides: 'long-only' }))];
}

/** The label horizon the holding variants scale to: the direction head's (the side comes from it), else the longest. */
export function holdingHorizon(tasks: readonly { readonly id: string; readonly horizon: number }[]): number {
  const d = tasks.find((t) => t.id === 'direction');
  return d ? d.horizon : Math.max(1, ...tasks.map((t) => t.horizon));
}
