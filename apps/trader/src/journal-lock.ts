import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { DataError } from '@task-agnostic/core';

/**
 * One trader per journal: `<journal>.lock` holds the pid of the process that writes the journal.
 * Created with O_EXCL, so of two traders starting together one wins; the other is refused with the
 * holder's pid. A lock whose pid is no longer alive (kill -9, power loss) is stale and taken over.
 * Read-only users (status, the dashboard) do not take it. (Two traders taking over the same stale
 * lock at the same instant is the one race left: each re-reads the lock after writing it.)
 */
export class JournalLockError extends DataError {
  readonly holderPid: number;
  constructor(message: string, holderPid: number) {
    super(message);
    this.holderPid = holderPid;
  }
}

const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readPid(lockFile: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lockFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the lock of `journalFile` for this process; returns its release. */
export function lockJournal(journalFile: string): () => void {
  const lockFile = `${journalFile}.lock`;
  const refuse = (pid: number): never => {
    throw new JournalLockError(
      `journal ${journalFile} is in use by another trader (pid ${pid}${pid === process.pid ? ', this process' : ''}); stop it first, or give this one another --journal (lock file ${lockFile})`,
      pid,
    );
  };
  if (held.has(lockFile)) refuse(process.pid);
  try {
    const fd = openSync(lockFile, 'wx');
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataError(`cannot create the journal lock ${lockFile}: ${(err as Error).message}`, { cause: err });
    const pid = readPid(lockFile);
    if (pid !== null && pid !== process.pid && alive(pid)) refuse(pid);
    // stale (dead pid, our own leftover, or unreadable): take it over atomically, then check we hold it
    const tmp = `${lockFile}.${process.pid}`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, lockFile);
    } catch (e) {
      throw new DataError(`cannot take over the stale journal lock ${lockFile}: ${(e as Error).message}`, { cause: e });
    }
    const now = readPid(lockFile);
    if (now !== process.pid) refuse(now ?? -1);
  }
  held.add(lockFile);
  return () => {
    if (!held.delete(lockFile)) return;
    if (readPid(lockFile) === process.pid) {
      try {
        unlinkSync(lockFile);
      } catch {
        // already gone
      }
    }
  };
}
