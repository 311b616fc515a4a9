// Starts the TypeScript worker entry from sources (vitest, `node --import tsx`): registers tsx in
// this worker thread, then imports the entry. Built packages start dist/data-parallel-worker.js.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
