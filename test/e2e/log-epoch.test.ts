import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import type { PortierEvent } from '../../src/core/events.js';
import { eventually, PortierProcess } from '../helpers/daemon.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { CloudConsumer } from '../integration/sync/harness.js';

const GW = 'epoch-gw';
const EUI = '70b3d5e75e00e901';

/**
 * The cloud's view across damaged logs: the daemon as a process, a real mosquitto as the town's cloud broker with a
 * consumer recording every `(gw, epoch, seq)` it receives and the ids under it, and a second mosquitto as the
 * local broker the bay sensor reports through. Whatever happens to the database between runs (a quarantine, an
 * older copy put back by hand, a WAL cut after kill -9), no `(gw, epoch, seq)` may name two events.
 */
describe('log epochs: (gw, epoch, seq) never names two events', () => {
  let cloud: Broker;
  let local: Broker;
  let consumer: CloudConsumer;
  let bay: ChirpstackSensorStub;
  let reports = 0;
  /** The bay events the last `report` saw arrive (new ids: numbered by the daemon running then). */
  let reported: PortierEvent[] = [];

  beforeAll(async () => {
    cloud = await startMosquitto();
    local = await startMosquitto();
    consumer = await CloudConsumer.start(cloud.url, `cloud-epoch-${process.pid}`);
    bay = new ChirpstackSensorStub({ brokerUrl: local.url, devEui: EUI });
    await bay.start();
  });

  afterAll(async () => {
    await bay?.stop();
    await consumer?.stop();
    await local?.stop();
    await cloud?.stop();
  });

  /** A state directory with a config for the daemon. */
  function gateway(): { stateDir: string; config: string } {
    const dir = tempDir('portier-epoch-');
    const stateDir = join(dir, 'state');
    const config = join(dir, 'portier.yaml');
    writeConfig(config, stateDir, local.url, cloud.url);
    return { stateDir, config };
  }

  async function start(config: string): Promise<PortierProcess> {
    const daemon = new PortierProcess(['run', '--config', config], { PORTIER_ADMIN_LISTEN: '127.0.0.1:0' });
    await daemon.waitFor((l) => l.msg === 'gateway ready', 30_000, 'gateway ready');
    // Published after the bay's subscription went out on the same connection: the broker has it by now.
    await daemon.waitFor((l) => l.msg === 'Home Assistant discovery published', 15_000, 'local broker link');
    return daemon;
  }

  async function stop(daemon: PortierProcess): Promise<void> {
    daemon.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  }

  /** `n` bay reports, each one parking.occupancy event; resolves once the cloud holds all of them. */
  async function report(n: number): Promise<void> {
    const before = bayEvents().length;
    for (let i = 0; i < n; i++) {
      reports++;
      await bay.uplink(1, nps405Status(reports % 2 === 0));
    }
    await eventually(() => bayEvents().length >= before + n, 30_000, `${n} bay events in the cloud`);
    reported = bayEvents().slice(before);
  }

  const bayEvents = () => distinct().filter((e) => e.type === 'parking.occupancy' && e.dev === 'bay-1');
  const distinct = () => [...new Map(consumer.events().map((e) => [e.id, e])).values()];

  /** Keys of the cloud's view that name more than one event. */
  function reusedKeys(): string[] {
    const byKey = new Map<string, Set<string>>();
    for (const e of consumer.events()) {
      if (e.gw !== GW) continue;
      const key = `${e.gw}/${e.epoch}/${e.seq}`;
      const ids = byKey.get(key) ?? new Set<string>();
      ids.add(e.id);
      byKey.set(key, ids);
    }
    return [...byKey].filter(([, ids]) => ids.size > 1).map(([k, ids]) => `${k}: ${[...ids].join(', ')}`);
  }

  const epochAlarms = () =>
    distinct().filter((e) => e.type === 'alarm' && e.data.alarm === 'log_epoch_started' && e.gw === GW);

  it('after a quarantine the fresh database numbers from 1 again, under a new epoch', async () => {
    const g = gateway();
    let daemon = await start(g.config);
    await report(30);
    const first = lastEpoch();
    await stop(daemon);
    // What a torn write leaves: the header is no longer a database's.
    overwrite(join(g.stateDir, 'portier.db'), 0, Buffer.alloc(4096, 0xa5));
    daemon = await start(g.config);
    await report(30);
    await stop(daemon);
    expect(reusedKeys()).toEqual([]);
    expect(readdirSync(g.stateDir).some((f) => f.startsWith('portier.db.corrupt-'))).toBe(true);
    const second = lastEpoch();
    expect(second.epoch).not.toBe(first.epoch);
    // Numbering started over: without the epoch these seqs would name events the cloud already has.
    expect(Math.min(...eventsOf(second.epoch).map((e) => e.seq))).toBe(1);
  }, 120_000);

  it('an older copy of the database put back while stopped continues under a new epoch', async () => {
    const g = gateway();
    let daemon = await start(g.config);
    await report(20);
    const first = lastEpoch();
    await stop(daemon);
    const backup = join(g.stateDir, '..', 'backup.db');
    const live = new BetterSqlite3(join(g.stateDir, 'portier.db'), { readonly: true });
    await live.backup(backup);
    live.close();
    daemon = await start(g.config);
    await report(20);
    const before = lastEpoch();
    // A clean stop proves the log whole: the next run went on in the same epoch.
    expect(before.epoch).toBe(first.epoch);
    await stop(daemon);
    // The operator's restore by hand: the database file only (the state directory's mark stays).
    for (const f of ['portier.db', 'portier.db-wal', 'portier.db-shm']) rmSync(join(g.stateDir, f), { force: true });
    await new BetterSqlite3(backup, { readonly: true }).backup(join(g.stateDir, 'portier.db'));
    daemon = await start(g.config);
    await report(20);
    await eventually(() => epochAlarms().some((e) => e.data.reason === 'log_truncated'), 15_000, 'epoch alarm');
    await stop(daemon);
    expect(reusedKeys()).toEqual([]);
    const after = lastEpoch();
    expect(after.epoch).not.toBe(before.epoch);
    // The restored log numbers seqs the cloud already had from the run it forgot.
    const reusedSeqs = eventsOf(after.epoch).filter((e) => eventsOf(before.epoch).some((b) => b.seq === e.seq));
    expect(reusedSeqs.length).toBeGreaterThan(0);
  }, 120_000);

  it('a WAL cut mid-frame after kill -9 loses a tail the cloud has, and the next run cannot reuse its seqs', async () => {
    const g = gateway();
    const daemon = await start(g.config);
    await report(60);
    const before = lastEpoch();
    const sent = Math.max(...eventsOf(before.epoch).map((e) => e.seq));
    daemon.kill('SIGKILL');
    await daemon.exited;
    const wal = join(g.stateDir, 'portier.db-wal');
    expect(existsSync(wal)).toBe(true);
    // Half the WAL, cut inside a frame: what a power loss can leave of frames not yet on disk.
    truncateSync(wal, Math.floor(statSync(wal).size / 2) + 100);
    const again = await start(g.config);
    await report(60);
    await eventually(() => epochAlarms().some((e) => e.data.epoch !== before.epoch), 15_000, 'epoch alarm');
    await stop(again);
    expect(reusedKeys()).toEqual([]);
    const after = lastEpoch();
    expect(after.epoch).not.toBe(before.epoch);
    // The cut took events the cloud had received: the new run numbers from below what was sent.
    const firstNew = Math.min(...eventsOf(after.epoch).map((e) => e.seq));
    expect(firstNew).toBeLessThanOrEqual(sent);
  }, 120_000);

  it('a fault the integrity check finds after READY is alarmed, and the next start quarantines under a new epoch', async () => {
    const g = gateway();
    let daemon = await start(g.config);
    await report(150);
    await stop(daemon);
    // A leaf page in the middle of the log: nothing on the start path reads it, the full check does.
    const db = new BetterSqlite3(join(g.stateDir, 'portier.db'), { readonly: true });
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const leaves = db
      .prepare("SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno")
      .pluck()
      .all() as number[];
    db.close();
    expect(leaves.length).toBeGreaterThan(4);
    const victim = leaves[Math.floor(leaves.length / 2)]!;
    overwrite(join(g.stateDir, 'portier.db'), (victim - 1) * pageSize, Buffer.alloc(pageSize, 0x5a));
    daemon = await start(g.config);
    const found = await daemon.waitFor(
      (l) => String(l.msg).startsWith('DATABASE FAILED ITS INTEGRITY CHECK'),
      30_000,
      'integrity fault',
    );
    // The doors were up first: the check runs after READY.
    const readyAt = daemon.lines.findIndex((l) => l.msg === 'gateway ready');
    expect(readyAt).toBeGreaterThanOrEqual(0);
    expect(daemon.lines.indexOf(found)).toBeGreaterThan(readyAt);
    await eventually(
      () => distinct().some((e) => e.gw === GW && e.data.alarm === 'database_integrity_failed'),
      15_000,
      'the integrity alarm in the cloud',
    );
    const before = lastEpoch();
    await stop(daemon);
    daemon = await start(g.config);
    await report(10);
    await stop(daemon);
    expect(reusedKeys()).toEqual([]);
    expect(readdirSync(g.stateDir).some((f) => f.startsWith('portier.db.corrupt-'))).toBe(true);
    expect(existsSync(join(g.stateDir, 'portier.db.check-failed'))).toBe(false);
    expect(lastEpoch().epoch).not.toBe(before.epoch);
  }, 120_000);

  /** The epoch the running (or last) daemon numbered its events in: that of the bay events its last report made. */
  function lastEpoch(): { epoch: string } {
    const epochs = [...new Set(reported.map((e) => e.epoch))];
    expect(epochs).toHaveLength(1);
    expect(epochs[0]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    return { epoch: epochs[0]! };
  }

  function eventsOf(epoch: string) {
    return distinct().filter((e) => e.gw === GW && e.epoch === epoch);
  }
});

function writeConfig(path: string, stateDir: string, localUrl: string, cloudUrl: string): void {
  const fd = openSync(path, 'w');
  writeSync(
    fd,
    `version: 1
gateway: { id: ${GW}, state_dir: ${stateDir}, trust_system_clock: true }
log: { level: info }
local_mqtt: { url: "${localUrl}" }
cloud: { url: "${cloudUrl}", batch_max_age_ms: 50 }
devices:
  - { id: bay-1, driver: chirpstack-parking, dev_eui: ${EUI}, codec: nwave-nps405 }
`,
  );
  closeSync(fd);
}

/** Overwrite bytes of a file in place. */
function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}
