/**
 * The scale-out executor: jobs go to a BullMQ queue on Redis, `trainer worker` processes on any
 * number of machines take them, and results come back through a folder every machine shares.
 *
 * - The BullMQ job id is the job's idempotency key: adding a job whose id exists is a no-op, and
 *   waiting on it returns the result of whichever run completed it (also one that finished while
 *   the sweep was not running).
 * - A worker writes the outcome to <shared>/results/<job id>.json (atomically) and returns only
 *   its path; Redis holds no bulky results.
 * - A killed worker stops renewing its job's lock; BullMQ's stalled-job check moves the job back
 *   to the queue and another worker runs it. A stale completion of the killed run is refused by
 *   BullMQ (lost lock), and the sweep records each trial index once anyway.
 * - Progress lines of the workers arrive as BullMQ progress events on the sweep's console.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Executor, JobOutcome, JobSpec } from './job.js';
import { maskUrl, probeRedis, redisConnection } from './redis-connection.js';
import type { Log } from './train-run.js';

export const DEFAULT_QUEUE_NAME = 'tat-trainer';

/** What a queued job carries: the job and the shared folder as the sweep sees it. */
export interface QueuedJob {
  readonly job: JobSpec;
  readonly shared: string;
}

/** What a worker returns: where it wrote the outcome, relative to the shared folder. */
export interface QueuedReturn {
  readonly file: string;
}

export interface QueueExecutorOptions {
  readonly url: string;
  readonly queueName?: string;
  /** The folder shared with the workers (absolute path as this machine sees it). */
  readonly shared: string;
  /** Jobs in the queue at once (default 64). */
  readonly parallel?: number;
  readonly probeTimeoutMs?: number;
}

export class QueueExecutor implements Executor {
  readonly slots: number;
  readonly description: string;
  private readonly progress = new Map<string, Log>();

  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly shared: string,
    private readonly connections: readonly Redis[],
    o: QueueExecutorOptions,
  ) {
    this.slots = o.parallel ?? 64;
    this.description = `BullMQ queue '${o.queueName ?? DEFAULT_QUEUE_NAME}' on ${maskUrl(o.url)} (start workers with: trainer worker --queue ${maskUrl(o.url)}), results in ${shared}`;
    events.on('progress', ({ jobId, data }) => {
      const line = (data as { line?: string } | undefined)?.line;
      if (line) this.progress.get(jobId)?.(line);
    });
  }

  /** Checks Redis (a clear error within ~4 s when it is unreachable) and opens the queue. */
  static async open(o: QueueExecutorOptions): Promise<QueueExecutor> {
    await probeRedis(o.url, o.probeTimeoutMs ?? 4000);
    const name = o.queueName ?? DEFAULT_QUEUE_NAME;
    const connections = [redisConnection(o.url), redisConnection(o.url)];
    const queue = new Queue(name, { connection: connections[0]! });
    const events = new QueueEvents(name, { connection: connections[1]! });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueExecutor(queue, events, path.resolve(o.shared), connections, o);
  }

  async run(job: JobSpec, onProgress: Log = () => {}): Promise<JobOutcome> {
    const t0 = Date.now();
    this.progress.set(job.id, onProgress);
    try {
      const data: QueuedJob = { job, shared: this.shared };
      const added = await this.queue.add(job.kind, data, { jobId: job.id, attempts: 3, removeOnComplete: false, removeOnFail: false });
      const ret = (await added.waitUntilFinished(this.events)) as QueuedReturn;
      return JSON.parse(await readFile(path.join(this.shared, ret.file), 'utf8')) as JobOutcome;
    } catch (err) {
      return { id: job.id, ok: false, error: `the queue gave up on the job: ${(err as Error).message}`, seconds: (Date.now() - t0) / 1000, cpuSeconds: 0, pid: 0, attempts: 1 };
    } finally {
      this.progress.delete(job.id);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    for (const c of this.connections) c.disconnect();
  }
}
