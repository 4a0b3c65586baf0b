import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { backgroundQuery } from '../../../src/store/background-query.js';
import { DB_FILE } from '../../../src/store/database.js';
import { openStore } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';

// better-sqlite3 builds SQLite with a 16 MiB page cache per connection (its docs/compilation.md,
// SQLITE_DEFAULT_CACHE_SIZE=-16000); the gateway's connections keep SQLite's own 2 MiB (docs/architecture.md, Memory).
describe('SQLite page cache of the gateway connections', () => {
  it('is 2 MiB on the gateway connection and on a background query thread, not the build default', async () => {
    const bare = new BetterSqlite3(':memory:');
    expect(bare.pragma('cache_size', { simple: true })).toBe(-16000);
    bare.close();
    const dir = tempDir();
    const store = openStore({ stateDir: dir, gatewayId: 'gw', log: silentLogger() });
    try {
      expect(store.db.pragma('cache_size', { simple: true })).toBe(-2000);
      const rows = await backgroundQuery<{ cache_size: number }>(join(dir, DB_FILE), 'PRAGMA cache_size');
      expect(rows).toEqual([{ cache_size: -2000 }]);
    } finally {
      store.close();
    }
  });
});
