import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { PortierEvent } from '../../../src/core/events.js';
import { createLogger } from '../../../src/core/logger.js';
import { crashJournalDir, crashJournalPath } from '../../../src/store/crash-journal.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { eventually } from '../../helpers/eventually.js';
import { tempDir } from '../../helpers/tmp.js';
import { fillDisk, mountSmallDisk, type SmallDisk } from '../../helpers/tmpfs.js';

/** The daemon's window (gateway.commit_window_ms default), longer than any of these tests: it never ends alone. */
const WINDOW_MS = 60_000;

function logCapture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination }) };
}

/** A gateway's store with the commit window and the crash journal in `journalDir`. */
function open(stateDir: string, journalDir: string, writerThread = false) {
  const { lines, log } = logCapture();
  const store = openStore({
    stateDir,
    gatewayId: 'gw',
    log,
    commitWindowMs: WINDOW_MS,
    crashJournalDir: journalDir,
    writerThread,
  });
  return { store, lines };
}

/** A kill -9: the process is gone without a flush or a clean close (the database's own recovery is SQLite's). */
function crash(store: Store): void {
  store.db.close();
}

/** Weather readings a serial station gave, recorded by the gateway (no broker delivers them again). */
function readings(store: Store, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) {
    store.events.record({ dev: 'nmea-1', type: 'weather.reading', data: { air_temperature_c: 10 + i / 10 } });
  }
}

function logged(stateDir: string): PortierEvent[] {
  const { store } = open(stateDir, tempDir());
  try {
    return store.events.tail(1000, { type: 'weather.reading' });
  } finally {
    store.close();
  }
}

describe('the crash journal of the commit window', () => {
  it('is replayed after a crash: each waiting event once, in order, with its id and original time', async () => {
    const stateDir = tempDir();
    const journalDir = tempDir();
    const first = open(stateDir, journalDir);
    const recorded: Array<{ from: number; to: number }> = [];
    for (let i = 0; i < 5; i++) {
      const from = Date.now();
      readings(first.store, 1, i);
      recorded.push({ from, to: Date.now() });
      // Readings a few ms apart: their original times are told apart from the replay's.
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(first.store.journal?.pending).toBe(5);
    const lines = parseLines(journalDir);
    crash(first.store);

    // The next start comes later than any of the recorded times.
    await new Promise((r) => setTimeout(r, 20));
    const restartedAt = Date.now();
    const second = open(stateDir, journalDir);
    const events = second.store.events.tail(100, { type: 'weather.reading' });
    expect(events.map((e) => e.data.air_temperature_c)).toEqual([10, 10.1, 10.2, 10.3, 10.4]);
    expect(events.map((e) => e.id)).toEqual(lines.map((l) => l.id));
    // Each with the time it was recorded, not the time of the replay.
    for (const [i, e] of events.entries()) {
      expect(Date.parse(e.ts)).toBeGreaterThanOrEqual(recorded[i]!.from);
      expect(Date.parse(e.ts)).toBeLessThanOrEqual(recorded[i]!.to);
      expect(Date.parse(e.ts)).toBeLessThan(restartedAt);
    }
    expect(second.store.journal?.replayed).toBe(5);
    const info = second.lines.find((l) => l.msg?.toString().startsWith('crash journal replayed'));
    expect(info).toMatchObject({ level: 30, replayed: 5, already_committed: 0, damaged: 0 });
    // Counts only: no payload in the log line.
    expect(JSON.stringify(info)).not.toContain('air_temperature_c');
    // Emptied once committed.
    expect(readFileSync(journalFile(journalDir), 'utf8')).toBe('');
    second.store.close();
  });

  it('replays nothing twice: lines whose events were committed before the crash (or by an earlier replay) are skipped', async () => {
    const stateDir = tempDir();
    const journalDir = tempDir();
    const first = open(stateDir, journalDir);
    readings(first.store, 3);
    // The journal as it stood before the commit: a crash between the commit and the truncation leaves it so.
    const beforeCommit = readFileSync(journalFile(journalDir), 'utf8');
    first.store.events.flush();
    expect(readFileSync(journalFile(journalDir), 'utf8')).toBe('');
    readings(first.store, 2, 3);
    const uncommitted = readFileSync(journalFile(journalDir), 'utf8');
    crash(first.store);
    writeFileSync(journalFile(journalDir), beforeCommit + uncommitted);

    const second = open(stateDir, journalDir);
    expect(second.store.journal).toMatchObject({ replayed: 2, alreadyCommitted: 3, damaged: 0 });
    second.store.events.flush();
    crash(second.store);
    // A crash during that replay, after its commit and before the journal was emptied: the same lines again.
    writeFileSync(journalFile(journalDir), beforeCommit + uncommitted);
    const third = open(stateDir, journalDir);
    expect(third.store.journal).toMatchObject({ replayed: 0, alreadyCommitted: 5 });
    third.store.close();

    const events = logged(stateDir);
    expect(events.map((e) => e.data.air_temperature_c)).toEqual([10, 10.1, 10.2, 10.3, 10.4]);
    expect(new Set(events.map((e) => e.id)).size).toBe(5);
  });

  it('keeps the lines still waiting when a commit on the writer thread ends while more were queued', async () => {
    const stateDir = tempDir();
    const journalDir = tempDir();
    const first = open(stateDir, journalDir, true);
    readings(first.store, 3);
    const committed = first.store.events.whenCommitted(true);
    // The window closed at the turn's end and its batch went to the writer thread; two more wait meanwhile.
    await new Promise((r) => setImmediate(r));
    readings(first.store, 2, 3);
    await committed;
    expect(parseLines(journalDir).map((l) => l.data)).toEqual([
      { air_temperature_c: 10.3 },
      { air_temperature_c: 10.4 },
    ]);
    // Those committed too (the file emptied), then one more: written at the file's start, not after a hole.
    first.store.events.flush();
    expect(statSync(journalFile(journalDir)).size).toBe(0);
    readings(first.store, 1, 5);
    crash(first.store);

    const second = open(stateDir, journalDir);
    expect(second.store.journal).toMatchObject({ replayed: 1, alreadyCommitted: 0, damaged: 0 });
    second.store.close();
    expect(logged(stateDir).map((e) => e.data.air_temperature_c)).toEqual([10, 10.1, 10.2, 10.3, 10.4, 10.5]);
  });

  it('skips and counts a damaged last line (the process killed mid-write), replays the rest and keeps going', () => {
    const stateDir = tempDir();
    const journalDir = tempDir();
    const first = open(stateDir, journalDir);
    readings(first.store, 3);
    crash(first.store);
    const whole = readFileSync(journalFile(journalDir), 'utf8');
    // A fourth line cut off in the middle.
    appendFileSync(journalFile(journalDir), whole.split('\n')[0]!.slice(0, 40));

    const second = open(stateDir, journalDir);
    expect(second.store.journal).toMatchObject({ replayed: 3, damaged: 1 });
    expect(second.lines.find((l) => l.msg?.toString().startsWith('crash journal replayed'))).toMatchObject({
      replayed: 3,
      damaged: 1,
    });
    // It goes on journaling and committing.
    readings(second.store, 1, 3);
    expect(second.store.journal?.pending).toBe(1);
    second.store.close();
    expect(logged(stateDir).map((e) => e.data.air_temperature_c)).toEqual([10, 10.1, 10.2, 10.3]);
  });

  it('leaves out what a broker delivers again (a QoS 1 uplink whose PUBACK waits for the commit)', () => {
    const { store } = open(tempDir(), tempDir());
    store.events.redelivered(() => readings(store, 2));
    expect(store.events.waiting).toBe(2);
    expect(store.journal?.pending).toBe(0);
    readings(store, 1, 2);
    expect(store.journal?.pending).toBe(1);
    store.close();
  });

  it('is a file of the gateway user alone (0600) whatever the umask', () => {
    const old = process.umask(0);
    try {
      const journalDir = join(tempDir(), 'run', 'portier');
      const { store } = open(tempDir(), journalDir);
      readings(store, 1);
      expect(statSync(journalFile(journalDir)).mode & 0o777).toBe(0o600);
      expect(statSync(journalDir).mode & 0o777).toBe(0o700);
      store.close();
    } finally {
      process.umask(old);
    }
  });

  it('goes in $RUNTIME_DIRECTORY (systemd), else the state directory, unless configured; one file per state directory', () => {
    expect(crashJournalDir(undefined, '/var/lib/portier', { RUNTIME_DIRECTORY: '/run/portier' })).toBe('/run/portier');
    expect(crashJournalDir(undefined, '/var/lib/portier', { RUNTIME_DIRECTORY: '/run/a:/run/b' })).toBe('/run/a');
    expect(crashJournalDir(undefined, '/var/lib/portier', {})).toBe('/var/lib/portier');
    expect(crashJournalDir('/dev/shm/portier', '/var/lib/portier', { RUNTIME_DIRECTORY: '/run/portier' })).toBe(
      '/dev/shm/portier',
    );
    expect(crashJournalPath('/run/portier', '/var/lib/a')).not.toBe(crashJournalPath('/run/portier', '/var/lib/b'));
  });
});

const disk = mountSmallDisk(join(tempDir(), 'shm'), '1m');
if ('reason' in disk) console.warn(`crash journal on a full tmpfs SKIPPED: ${disk.reason}`);

describe.skipIf('reason' in disk)('a crash journal on a full tmpfs (a 1 MiB tmpfs, really full)', () => {
  afterAll(() => (disk as SmallDisk).unmount());

  it('warns once, counts each event it cannot hold, and commits those at once instead of losing them', async () => {
    const journalDir = join((disk as SmallDisk).dir, 'portier');
    const stateDir = tempDir();
    const { store, lines } = open(stateDir, journalDir);
    const heard: PortierEvent[] = [];
    store.events.onCommitted((events) => heard.push(...events));
    fillDisk(join((disk as SmallDisk).dir, 'filler'));
    readings(store, 3);
    expect(store.journal?.failures).toBe(3);
    const warnings = lines.filter((l) => l.level === 40 && l.msg?.toString().startsWith('crash journal cannot'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'ENOSPC' });
    // Committed at the next turn, not at the end of the minute-long window.
    await eventually(() => heard.length === 3, 5_000, 'the readings committed at once');
    store.close();
    expect(logged(stateDir)).toHaveLength(3);
  });
});

function journalFile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.journal'));
  expect(files).toHaveLength(1);
  return join(dir, files[0]!);
}

function parseLines(dir: string): Array<{ id: string; data: unknown }> {
  return readFileSync(journalFile(dir), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; input: { data: unknown } })
    .map((l) => ({ id: l.id, data: l.input.data }));
}
