// The local stack's durable event queue: each S3 event for the training function is written under
// DATA_DIR/queue/ before it is queued and removed when its invocation ends, so an upload whose training or
// publish was interrupted (Ctrl-C, kill -9, a crash of the machine) is delivered again on the next start — S3 →
// Lambda is at-least-once, and the training handler is idempotent per object version. An event that still
// fails after the retries moves to queue/failed/ (the local dead-letter queue).
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { S3Event } from 'aws-lambda';

export interface JournalEntry {
  id: string;
  event: S3Event;
}

export class EventJournal {
  private seq = 0;
  readonly failedDir: string;

  constructor(readonly dir: string) {
    this.failedDir = path.join(dir, 'failed');
    mkdirSync(this.failedDir, { recursive: true });
  }

  /** Write the event durably (temp file, fsync, rename, fsync of the folder); returns its id. */
  add(event: S3Event): string {
    const id = `${String(Date.now()).padStart(15, '0')}-${String(process.pid).padStart(7, '0')}-${String(this.seq++).padStart(6, '0')}`;
    const file = path.join(this.dir, `${id}.json`);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(event));
    syncFile(tmp);
    renameSync(tmp, file);
    syncFile(this.dir);
    return id;
  }

  /** The invocation ended (published, refused, ignored…): forget the event. */
  remove(id: string): void {
    rmSync(path.join(this.dir, `${id}.json`), { force: true });
  }

  /** The retries are spent: keep the event in failed/ for a person to look at. */
  fail(id: string): void {
    try {
      renameSync(path.join(this.dir, `${id}.json`), path.join(this.failedDir, `${id}.json`));
    } catch {
      // already gone
    }
  }

  /** Events left by an earlier run, oldest first. A temp file is an event never acknowledged as queued (the
   * process died while writing it, before s3rver's request ended): dropped. */
  pending(): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const file = path.join(this.dir, name);
      if (name.endsWith('.tmp')) {
        rmSync(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -'.json'.length);
      try {
        out.push({ id, event: JSON.parse(readFileSync(file, 'utf8')) as S3Event });
      } catch {
        this.fail(id); // not an event: set aside, never replayed
      }
    }
    return out;
  }
}

function syncFile(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
