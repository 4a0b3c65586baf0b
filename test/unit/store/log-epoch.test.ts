import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { LANE_CODES } from '../../../src/store/event-log.js';
import { MARK_CHUNK, MARK_FILE } from '../../../src/store/log-epoch.js';
import { Outbox } from '../../../src/store/outbox.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';

const open = (dir: string, borrow = false): Store =>
  openStore({ stateDir: dir, gatewayId: 'gw-epoch', log: silentLogger(), borrow });

const mark = (dir: string) =>
  JSON.parse(readFileSync(join(dir, MARK_FILE), 'utf8')) as { epoch: string; mark: number; clean: boolean };

function record(store: Store, n: number): void {
  for (let i = 0; i < n; i++) store.events.record({ dev: 'w', type: 'weather.reading', data: { i } });
  store.events.flush();
}

/** What a crash leaves: the database closed without the store's clean stop (the mark is not lowered). */
function crash(store: Store): void {
  store.events.flush();
  store.db.close();
}

describe('log epochs', () => {
  it('gives a new database an epoch, stamps it on every event, and keeps it across a clean stop', () => {
    const dir = tempDir();
    const umask = process.umask(0);
    let store: Store;
    try {
      store = open(dir);
    } finally {
      process.umask(umask);
    }
    expect(store.epochStarted).toMatchObject({ reason: 'new_database', first_seq: 1 });
    const epoch = store.events.epoch.epoch;
    expect(epoch).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(statSync(join(dir, MARK_FILE)).mode & 0o777).toBe(0o600);
    record(store, 3);
    expect(store.events.tail(3).map((e) => e.epoch)).toEqual([epoch, epoch, epoch]);
    store.close();
    expect(mark(dir)).toEqual({ v: 1, epoch, mark: 3, clean: true });
    const again = open(dir);
    expect(again.epochStarted).toBeUndefined();
    expect(again.events.epoch.epoch).toBe(epoch);
    again.close();
  });

  it('raises the mark in chunks before numbering past it', () => {
    const dir = tempDir();
    const store = open(dir);
    expect(mark(dir).mark).toBe(1 + MARK_CHUNK);
    record(store, MARK_CHUNK + 5);
    // One group commit of MARK_CHUNK + 5 events: reserved up to its last seq, one chunk ahead.
    expect(mark(dir)).toMatchObject({ mark: MARK_CHUNK + 5 + MARK_CHUNK, clean: false });
    record(store, 1);
    expect(mark(dir).mark).toBe(MARK_CHUNK + 5 + MARK_CHUNK);
    store.close();
  });

  it('starts a new epoch after an unclean stop, numbering on from the log', () => {
    const dir = tempDir();
    const store = open(dir);
    const first = store.events.epoch.epoch;
    record(store, 5);
    crash(store);
    const again = open(dir);
    expect(again.epochStarted).toMatchObject({ reason: 'unclean_stop', first_seq: 6, previous_epoch: first });
    record(again, 1);
    expect(again.events.tail(1)[0]).toMatchObject({ seq: 6, epoch: again.events.epoch.epoch });
    expect(again.events.epoch.epoch).not.toBe(first);
    again.close();
  });

  it('starts a new epoch when the mark is missing', () => {
    const dir = tempDir();
    open(dir).close();
    rmSync(join(dir, MARK_FILE));
    const again = open(dir);
    expect(again.epochStarted?.reason).toBe('mark_missing');
    again.close();
  });

  it('lets a borrowing process read the log but not number events, and leaves the mark alone', () => {
    const dir = tempDir();
    const owner = open(dir);
    const before = readFileSync(join(dir, MARK_FILE), 'utf8');
    const guest = open(dir, true);
    expect(guest.events.epoch.epoch).toBe(owner.events.epoch.epoch);
    expect(() => guest.events.recordNow({ dev: 'x', type: 'alarm', data: {} })).toThrow(/does not own the event log/);
    guest.db.close();
    expect(readFileSync(join(dir, MARK_FILE), 'utf8')).toBe(before);
    owner.close();
  });

  it('sends events stored before epochs existed with the epoch their database was given', () => {
    const dir = tempDir();
    const old = open(dir);
    record(old, 2);
    // A database of a Portier before epochs: no epoch in the bodies or in meta, no mark.
    old.db.prepare("UPDATE events SET body = json_remove(body, '$.epoch')").run();
    old.db.prepare("DELETE FROM meta WHERE key LIKE 'log_epoch%'").run();
    crash(old);
    rmSync(join(dir, MARK_FILE));
    const store = open(dir);
    expect(store.epochStarted).toMatchObject({ reason: 'new_database', first_seq: 3 });
    const epoch = store.events.epoch.epoch;
    record(store, 1);
    const sent = new Outbox(store.db, store.events.epoch.legacy)
      .take(LANE_CODES.telemetry, 0, 10)
      .map((r) => JSON.parse(r.body) as { seq: number; epoch: string });
    expect(sent.map((e) => [e.seq, e.epoch])).toEqual([
      [1, epoch],
      [2, epoch],
      [3, epoch],
    ]);
    store.close();
  });
});
