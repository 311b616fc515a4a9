export { summariseSyntheticMarket, formatSyntheticSummary } from './synthetic-summary.js';
export type { SyntheticSummary } from './synthetic-summary.js';
