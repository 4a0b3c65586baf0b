import type { Database } from 'better-sqlite3';

/** One schema step. Steps are applied in order, each in its own transaction, and recorded in `user_version`. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

import { coreMigration } from './001-core.js';
import { accessMigration } from './002-access.js';
import { syncMigration } from './003-sync.js';

/** Every migration, listed explicitly and in order; append new ones at the end with the next version. */
export const MIGRATIONS: readonly Migration[] = [coreMigration, accessMigration, syncMigration];
