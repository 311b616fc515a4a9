/**
 * `trainer worker --queue redis://...`: takes jobs from the BullMQ queue and runs each in a child
 * process of a local pool (so this process's event loop stays free to renew BullMQ's job locks
 * while a trial trains), writes the outcome to <shared>/results/<job id>.json and reports
 * progress lines as BullMQ job progress. A trial that throws is a completed job whose outcome
 * says it failed (the sweep records it and goes on); only a dead worker leads to a retry, by
 * BullMQ's stalled-job check, on another worker.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker, type Job } from 'bullmq';
import { LocalPool } from './local-pool.js';
import type { QueuedJob, QueuedReturn } from './queue-executor.js';
import { DEFAULT_QUEUE_NAME } from './queue-executor.js';
import { maskUrl, probeRedis, redisConnection } from './redis-connection.js';
import type { Log } from './train-run.js';

export interface QueueWorkerOptions {
  readonly url: string;
  readonly queueName?: string;
  /** Jobs at once (one child process each; default 1: trials are single-threaded). */
  readonly concurrency?: number;
  /** The shared folder as this machine sees it (default: the path the sweep sent). */
  readonly shared?: string;
  /**
   * BullMQ lock duration (default 30 s): a dead worker's job goes back to the queue after about
   * this long. The stalled check runs at the same interval.
   */
  readonly lockMs?: number;
  readonly log: Log;
  /** Stop after this many jobs (default: run until stopped). */
  readonly maxJobs?: number;
  readonly signal?: AbortSignal;
}

/** Runs until the signal aborts (or maxJobs jobs are done); resolves with the number of jobs done. */
export async function runQueueWorker(o: QueueWorkerOptions): Promise<number> {
  await probeRedis(o.url);
  const name = o.queueName ?? DEFAULT_QUEUE_NAME;
  const concurrency = o.concurrency ?? 1;
  const lockMs = o.lockMs ?? 30_000;
  const pool = new LocalPool({ processes: concurrency, maxAttempts: 1 });
  const connection = redisConnection(o.url);
  let jobs = 0;
  let stopping = false;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((res) => (stop = res));
  const worker = new Worker<QueuedJob, QueuedReturn>(
    name,
    async (job: Job<QueuedJob, QueuedReturn>) => {
      const { job: spec, shared: sent } = job.data;
      const shared = path.resolve(o.shared ?? sent);
      o.log(`worker ${process.pid}: job ${spec.id} (${spec.kind}) started`);
      const outcome = await pool.run(spec, (line) => {
        void job.updateProgress({ line, pid: process.pid }).catch(() => {});
      });
      // stopped mid-job (Ctrl-C): fail this attempt, so BullMQ queues the job again for another worker
      if (stopping) throw new Error(`worker ${process.pid} stopped during the job`);
      const dir = path.join(shared, 'results');
      await mkdir(dir, { recursive: true });
      const rel = path.join('results', `${spec.id}.json`);
      const tmp = path.join(shared, `${rel}.${process.pid}.tmp`);
      await writeFile(tmp, JSON.stringify(outcome) + '\n');
      await rename(tmp, path.join(shared, rel));
      o.log(`worker ${process.pid}: job ${spec.id} ${outcome.ok ? 'done' : `failed (${outcome.error})`} in ${outcome.seconds.toFixed(1)} s`);
      jobs++;
      if (o.maxJobs !== undefined && jobs >= o.maxJobs) setImmediate(stop);
      return { file: rel };
    },
    { connection, concurrency, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 3, autorun: true },
  );
  worker.on('error', (e) => o.log(`worker ${process.pid}: ${e.message}`));
  await worker.waitUntilReady();
  o.log(`worker ${process.pid}: taking jobs from '${name}' on ${maskUrl(o.url)} (${concurrency} at a time, lock ${lockMs / 1000} s)`);
  o.signal?.addEventListener('abort', () => stop(), { once: true });
  await stopped;
  stopping = true;
  await pool.close(); // a job in hand ends as a failed attempt and goes back to the queue
  await worker.close();
  connection.disconnect();
  return jobs;
}
