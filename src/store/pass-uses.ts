import type { Database, Statement } from 'better-sqlite3';

/** How often each pass with a `uses` limit has opened a door (`access_uses`), counted inside the decision's commit. */
export class PassUses {
  private readonly getStmt: Statement<[string], number | undefined>;
  private readonly putStmt: Statement<[string, number, number | undefined, number]>;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare('SELECT used FROM access_uses WHERE pass_id = ?').pluck() as Statement<
      [string],
      number | undefined
    >;
    this.putStmt = db.prepare(
      `INSERT INTO access_uses (pass_id, used, max_uses, exp, last_ms) VALUES (?, 1, ?, ?, ?)
       ON CONFLICT(pass_id) DO UPDATE SET used = used + 1, max_uses = excluded.max_uses, last_ms = excluded.last_ms`,
    );
  }

  /** Uses counted so far (0 for a pass never seen). */
  used(passId: string): number {
    return this.getStmt.get(passId) ?? 0;
  }

  /** Count one use of a pass that allows `maxUses`, expiring at `exp` (s). */
  count(passId: string, maxUses: number, exp: number | undefined, nowMs: number): void {
    this.putStmt.run(passId, maxUses, exp, nowMs);
  }

  /** Forget the counts of passes that expired before `expS` (s). */
  prune(expS: number): void {
    this.db.prepare('DELETE FROM access_uses WHERE exp < ?').run(expS);
  }
}
