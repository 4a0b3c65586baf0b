import type { Database, Statement } from 'better-sqlite3';
import { durableTransaction } from './durable.js';

export type JournalStatus = 'pending' | 'ok' | 'error';

export interface JournalEntry {
  id: string;
  command: string;
  status: JournalStatus;
  /** the acknowledgement JSON sent (or to send again) for this id */
  ack: string | null;
  receivedMs: number;
}

interface Row {
  id: string;
  command: string;
  status: JournalStatus;
  ack: string | null;
  received_ms: number;
}

/**
 * Every command id the gateway has handled, in SQLite, so a command delivered twice (QoS 1 after a reconnect, or
 * the cloud retrying) is answered again and never applied twice. A command is written `pending` before its
 * PUBACK goes out, and gets its status and acknowledgement when done.
 */
export class CommandJournal {
  private readonly getStmt: Statement<[string], Row | undefined>;
  private readonly beginStmt: Statement<[string, string, number]>;
  private readonly finishStmt: Statement<[string, string, string]>;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare('SELECT * FROM sync_commands WHERE id = ?') as Statement<[string], Row | undefined>;
    this.beginStmt = db.prepare(
      "INSERT INTO sync_commands (id, command, status, ack, received_ms) VALUES (?, ?, 'pending', NULL, ?)",
    );
    this.finishStmt = db.prepare('UPDATE sync_commands SET status = ?, ack = ? WHERE id = ?');
  }

  get(id: string): JournalEntry | undefined {
    const r = this.getStmt.get(id);
    return r ? { id: r.id, command: r.command, status: r.status, ack: r.ack, receivedMs: r.received_ms } : undefined;
  }

  /** Record receipt durably (synchronous=FULL: the broker forgets the command once we acknowledge it). */
  begin(id: string, command: string, nowMs: number): void {
    this.durably(() => this.beginStmt.run(id, command, nowMs));
  }

  finish(id: string, status: Exclude<JournalStatus, 'pending'>, ack: string): void {
    this.durably(() => this.finishStmt.run(status, ack, id));
  }

  /** Forget ids received before `beforeMs`; returns how many. */
  prune(beforeMs: number): number {
    return this.db.prepare("DELETE FROM sync_commands WHERE received_ms < ? AND status != 'pending'").run(beforeMs)
      .changes;
  }

  private durably(write: () => void): void {
    durableTransaction(this.db, write);
  }
}
