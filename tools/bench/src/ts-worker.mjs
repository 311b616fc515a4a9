// Starts a TypeScript module in a worker thread of a benchmark (registers tsx in the thread, then
// imports workerData.entry).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
