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
process.on('message', (msg: JobMessage) => {
  if (!msg || msg.type !== 'job') return;
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
