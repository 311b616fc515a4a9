/**
 * The entry of a worker process of the local pool (child_process.fork): it takes jobs over IPC,
 * one at a time, and answers each with its outcome. A job that throws is an outcome with its
 * error, not a crash; the process exits when its parent goes away (a killed `trainer worker`
 * takes its trials down with it, and BullMQ hands the job to another worker).
 */
import { runJob, type JobOutcome, type JobSpec } from './job.js';

interface JobMessage {
  readonly type: 'job';
  readonly job: JobSpec;
  readonly attempts: number;
}

/** Sent by LocalPool.start(): load the trial code and initialise tfjs's backend now, before any job. */
interface WarmMessage {
  readonly type: 'warm';
}

function send(msg: unknown): void {
  if (process.connected && process.send) process.send(msg);
}

function errorText(err: unknown): string {
  const e = err as Error;
  return (e && typeof e.message === 'string' ? `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}` : String(err)).split('\n')[0]!.slice(0, 2000);
}

if (!process.send) {
  process.stderr.write('job-worker: start me through the local pool (child_process.fork), not directly\n');
  process.exit(2);
}

process.on('disconnect', () => process.exit(0));
/** This process's start-up so far: wall seconds since it started, CPU seconds (user + system) it used. */
function startup(): { pid: number; seconds: number; cpuSeconds: number } {
  const c = process.cpuUsage();
  return { pid: process.pid, seconds: performance.now() / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
}

async function warm(): Promise<string> {
  await import('./sweep-trial.js');
  const { initBackend } = await import('@task-agnostic/tf');
  return (await initBackend({ quiet: true })).name;
}

process.on('message', (msg: JobMessage | WarmMessage) => {
  if (msg?.type === 'warm') {
    warm().then(
      (backend) => send({ type: 'warm', ...startup(), backend }),
      (err: unknown) => send({ type: 'warm', ...startup(), error: errorText(err) }),
    );
    return;
  }
  if (msg?.type !== 'job') return;
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  const base = () => {
    const c = process.cpuUsage(c0);
    return { id: msg.job.id, seconds: (Date.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, pid: process.pid, attempts: msg.attempts };
  };
  runJob(msg.job, (line) => send({ type: 'progress', id: msg.job.id, line })).then(
    (result) => send({ type: 'done', outcome: { ...base(), ok: true, result } satisfies JobOutcome }),
    (err: unknown) => send({ type: 'done', outcome: { ...base(), ok: false, error: errorText(err) } satisfies JobOutcome }),
  );
});
send({ type: 'ready', pid: process.pid });
