import { z } from 'zod/v3';

/** Test credentials the simulator accepts by default (never real keys). */
export const SIM_API_KEY = 'simKey00000000000001';
export const SIM_API_SECRET = 'simSecret0000000000000000000000000001';

/**
 * Simulator settings. Fees are Bybit's base perpetual rates (0.055 % taker, 0.02 % maker);
 * limits follow TOOLCHAIN.md (IP: 600 requests per 5 s, then a ban of >= 10 minutes).
 */
export const simulatorOptionsSchema = z
  .object({
    /** Simulated time at start; default: the end of the first feed's last bar (all bars closed). */
    startMs: z.number().int().optional(),
    apiKey: z.string().min(1).default(SIM_API_KEY),
    apiSecret: z.string().min(1).default(SIM_API_SECRET),
    initialUsdt: z.number().positive().default(10_000),
    takerFeeRate: z.number().min(0).max(0.01).default(0.00055),
    makerFeeRate: z.number().min(-0.01).max(0.01).default(0.0002),
    leverage: z.number().min(1).max(100).default(10),
    ipLimitPer5s: z.number().int().positive().default(600),
    ipBanMs: z.number().int().positive().default(600_000),
    orderLimitPerSecond: z.number().int().positive().default(10),
    privateLimitPerSecond: z.number().int().positive().default(50),
  })
  .strict();

export type SimulatorOptions = z.infer<typeof simulatorOptionsSchema>;
export type SimulatorOptionsInput = z.input<typeof simulatorOptionsSchema>;
