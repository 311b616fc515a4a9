/**
 * TEST HELPERS for the journal's tests: a journal path in a fresh temp folder, raw SQLite edits of a
 * journal file (to age or damage it as an earlier version or a crash would), and another process
 * holding a journal open (to kill it hard, or to contend for the lock). Not part of the app's API
 * (index.ts does not export it).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

/** A path `journal.db` in a new temp folder whose name starts with `prefix`; no file there yet. */
export function tempJournalPath(prefix = 'tat-journal-'): string {
  return path.join(mkdtempSync(path.join(tmpdir(), prefix)), 'journal.db');
}

/** Opens `file` with plain better-sqlite3 (no Journal checks, no lock), runs `edit` on it and closes it. */
export function editJournalFile(file: string, edit: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    edit(db);
  } finally {
    db.close();
  }
}

/**
 * A child node process that opens the journal `file` as `j` and then runs `body` (ES module code);
 * its stdout is piped to the test, stderr inherited.
 */
export function spawnJournalProcess(file: string, body: string): ChildProcessByStdio<null, Readable, null> {
  const journalModule = path.join(path.dirname(fileURLToPath(import.meta.url)), 'journal.ts');
  const script = `
      import { Journal } from ${JSON.stringify(journalModule)};
      const j = Journal.open(${JSON.stringify(file)});
      ${body}`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}
