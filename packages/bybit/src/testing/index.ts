export { BybitSimulator } from './simulator.js';
export type { RequestLogEntry } from './simulator.js';
export { SIM_API_KEY, SIM_API_SECRET, simulatorOptionsSchema } from './options.js';
export type { SimulatorOptions, SimulatorOptionsInput } from './options.js';
export { FaultInjector } from './faults.js';
export type { RestFault, WsFault } from './faults.js';
export type { SimFeed } from './market.js';
export type { SimOrder, SimPosition, SimFill } from './accounts.js';
export { feedFromCsv, feedFromSynthetic } from './feeds.js';
