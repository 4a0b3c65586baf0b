import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

import { coreMigration } from './001-core.js';
import { accessMigration } from './002-access.js';
import { syncMigration } from './003-sync.js';

/** Every migration, listed explicitly and in order; append new ones at the end with the next version. */
export const MIGRATIONS: readonly Migration[] = [coreMigration, accessMigration, syncMigration];
