/**
 * SQLite's page cache of each connection (the gateway's, the writer thread's, a background query's), in KiB.
 * better-sqlite3 builds SQLite with a 16 MiB default (SQLITE_DEFAULT_CACHE_SIZE=-16000), which a connection fills
 * as the log grows: with 1,000 bays at 100 uplinks/s the gateway's RSS rose about 3 MiB a minute for five minutes
 * (docs/architecture.md, Memory). 2 MiB is SQLite's own default; the pages it no longer keeps are read back from
 * the kernel's page cache.
 */
export const CACHE_SIZE_PRAGMA = 'cache_size = -2000';
