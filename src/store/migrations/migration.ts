import type { Database } from 'better-sqlite3';

/** One schema step. Steps are applied in order, each in its own transaction, and recorded in `user_version`. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
