import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, PortierError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import { RESERVE_FILE } from '../../../src/store/disk-space.js';
import { MARK_CHUNK, MARK_FILE, SeqMark } from '../../../src/store/log-epoch.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';
import { fillDisk, mountSmallDisk, type SmallDisk } from '../../helpers/tmpfs.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const root = join(tempDir('portier-reserve-'), 'disk');
const disk = mountSmallDisk(root, '4m');
if ('reason' in disk) console.warn(`disk reserve tests SKIPPED: ${disk.reason}`);
const mounted = !('reason' in disk);

/** The store on a 4 MiB tmpfs that another program fills to the last block, the WAL emptied into the database. */
describe.skipIf(!mounted)('the disk reserve (a real tmpfs filled to the last block)', () => {
  let store: Store | undefined;
  let n = 0;

  afterEach(() => {
    try {
      store?.close();
    } catch {
      // a store closed on a full disk may fail to persist; the next test uses a fresh directory
    }
    store = undefined;
  });
  afterAll(() => {
    if (mounted) (disk as SmallDisk).unmount();
  });

  function fullStore(reserveBytes: number): { store: Store; filler: string } {
    const stateDir = join(root, `state-${++n}`);
    const s = openStore({
      stateDir,
      gatewayId: 'gw-reserve',
      log: silentLogger(),
      disk: { minFreeBytes: 1 * MiB, reserveBytes },
    });
    store = s;
    s.disk!.check();
    for (let i = 0; i < 200; i++) s.events.record({ dev: 'wx', type: 'weather.reading', data: { temperature_c: i } });
    s.events.flush();
    // A WAL emptied into the database and cut to nothing: the next commit needs new blocks.
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const filler = join(root, `filler-${n}`);
    fillDisk(filler);
    return { store: s, filler };
  }

  it('commits an access decision on a full disk by giving back the reserve, and raises disk_full', () => {
    const { store: s, filler } = fullStore(512 * KiB);
    expect(existsSync(join(s.db.name, '..', RESERVE_FILE))).toBe(true);
    const decision = s.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { granted: true } });
    expect(s.disk!.releases).toBe(1);
    expect(existsSync(join(s.db.name, '..', RESERVE_FILE))).toBe(false);
    expect(s.disk!.state).toBe('full');
    const logged = s.events.tail(5);
    expect(logged.map((e) => e.id)).toContain(decision.id);
    expect(logged.some((e) => e.type === 'alarm' && e.data.alarm === 'disk_full')).toBe(true);
    unlinkSync(filler);
  });

  it('without a reserve the same commit fails with StoreFull (never a crash), and nothing is announced', () => {
    const { store: s, filler } = fullStore(0);
    const heard: string[] = [];
    s.events.onCommitted((events) => heard.push(...events.map((e) => e.type)));
    let err: unknown;
    try {
      s.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { granted: true } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PortierError);
    expect((err as PortierError).code).toBe(ErrorCode.StoreFull);
    expect(heard).not.toContain('access.decision');
    unlinkSync(filler);
  });

  it('keeps telemetry off a full disk (counted), holds the latest state, and records it when space returns', () => {
    const { store: s, filler } = fullStore(512 * KiB);
    expect(s.disk!.check()).toBe('full');
    const shed: Array<[string, string, number]> = [];
    s.disk!.onShed((lane, policy, count) => shed.push([lane, policy, count]));
    for (let i = 0; i < 50; i++) s.events.record({ dev: 'wx', type: 'weather.reading', data: { temperature_c: i } });
    s.events.record({ dev: 'bay-1', type: 'parking.occupancy', data: { occupied: true } });
    s.events.record({ dev: 'bay-1', type: 'parking.occupancy', data: { occupied: false } });
    s.events.flush();
    expect(shed.filter(([l, p]) => l === 'telemetry' && p === 'disk_full').reduce((a, [, , c]) => a + c, 0)).toBe(50);
    expect(shed).toContainEqual(['state', 'coalesced', 1]);
    expect(s.events.tail(5, { type: 'parking.occupancy' })).toHaveLength(0);

    unlinkSync(filler);
    expect(s.disk!.check()).toBe('ok');
    s.events.flush();
    const bays = s.events.tail(5, { type: 'parking.occupancy' });
    expect(bays.map((e) => e.data.occupied)).toEqual([false]);
    const alarms = s.events
      .tail(10, { type: 'alarm' })
      .map((e) => `${e.data.alarm}${e.data.cleared ? ' cleared' : ''}`);
    expect(alarms).toEqual(expect.arrayContaining(['disk_full', 'disk_full cleared', 'disk_low cleared']));
    const totals = s.db.prepare('SELECT lane, policy, count FROM sync_shed ORDER BY lane, policy').all();
    expect(totals).toEqual([
      { lane: 1, policy: 'coalesced', count: 1 },
      { lane: 2, policy: 'disk_full', count: 50 },
    ]);
    expect(existsSync(join(s.db.name, '..', RESERVE_FILE))).toBe(true);
  });

  it('raises the log mark on a full disk (rewritten in place, no new block), so numbering never stops there', () => {
    const stateDir = join(root, `mark-${++n}`);
    mkdirSync(stateDir);
    const mark = new SeqMark(stateDir, '01JEPOCHTESTFULLDISK00000', 0);
    mark.reserve(1);
    const markPath = join(stateDir, MARK_FILE);
    const filler = join(root, `filler-${n}`);
    fillDisk(filler);
    // Without the in-place path this throws ENOSPC: the temporary file finds no block.
    mark.reserve(MARK_CHUNK + 2);
    const after = JSON.parse(readFileSync(markPath, 'utf8')) as { mark: number; epoch: string; clean: boolean };
    expect(after).toEqual({ v: 1, epoch: '01JEPOCHTESTFULLDISK00000', mark: 2 * MARK_CHUNK + 2, clean: false });
    expect(existsSync(`${markPath}.tmp`)).toBe(false);
    unlinkSync(filler);
  });
});
