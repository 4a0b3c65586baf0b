import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import { createPtyPair, type PtyPair } from '../../firmware-stubs/pty-pair.js';
import { SerialDevice } from '../../firmware-stubs/serial-device.js';
import { DB_FILE } from '../../src/store/database.js';
import { eventually, PortierProcess } from '../helpers/daemon.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 14, "nothing is lost on a process crash": readings a serial weather station gave wait in the daemon's
 * commit window (the default 8 s) and no broker would deliver them again. The daemon is killed with SIGKILL inside
 * the window; started again on the same state directory and the same runtime directory (systemd's RuntimeDirectory
 * with RuntimeDirectoryPreserve=yes, a tmpfs), it has every reading in its log exactly once, with the time it was
 * read, and sends each to the town's cloud broker (a second real mosquitto). A parking bay's uplink through the
 * local broker at QoS 1, waiting in the same window, is not journaled: its PUBACK never left, and the broker delivers
 * it again after the restart, so it too is in the log once.
 */
const GW = 'journal-gw';
const BAY_EUI = '70b3d5e75e0a0001';
const READINGS = 6;

/**
 * An NMEA 0183 `$WIMWV` wind sentence (angle, reference R, speed, unit M = m/s, status A), written here from the
 * standard's layout ("NMEA 0183 revealed", gpsd): `$` body `*` and the XOR of the body's characters in hex.
 */
function mwv(speedMs: number): string {
  const body = `WIMWV,270.0,R,${speedMs.toFixed(1)},M,A`;
  let x = 0;
  for (const c of body) x ^= c.charCodeAt(0);
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

interface Uplinked {
  id: string;
  seq: number;
  type: string;
  ts: string;
  data: Record<string, unknown>;
}

describe('a kill -9 inside the commit window (the daemon as a process, a serial weather station on a pty)', () => {
  const dir = tempDir('portier-e2e-journal-');
  const stateDir = join(dir, 'state');
  // As systemd's /run/portier: a tmpfs that outlives the process.
  const runtimeDir = mkdtempSync('/dev/shm/portier-run-');
  let local: Broker;
  let cloud: Broker;
  let pty: PtyPair;
  let station: SerialDevice;
  let sink: MqttClient;
  let chirpstack: MqttClient;
  const bay = new ChirpstackSensorStub({ brokerUrl: '', devEui: BAY_EUI });
  let configPath: string;
  let daemon: PortierProcess | undefined;
  const uplinked: Uplinked[] = [];
  let bridgeState = '';

  beforeAll(async () => {
    local = await startMosquitto();
    cloud = await startMosquitto();
    pty = await createPtyPair(dir, { gateway: 'nmea', device: 'nmea.dev' });
    station = new SerialDevice(pty.devicePath, 4800);
    await station.open(() => undefined);
    sink = await mqtt.connectAsync(cloud.url, { clientId: `journal-cloud-${process.pid}` });
    sink.on('message', (topic, payload) => {
      if (topic !== `portier/${GW}/up/events`) return;
      uplinked.push(...(JSON.parse(payload.toString()) as { events: Uplinked[] }).events);
    });
    await sink.subscribeAsync(`portier/${GW}/up/#`, { qos: 1 });
    chirpstack = await mqtt.connectAsync(local.url, { clientId: `journal-chirpstack-${process.pid}` });
    // The gateway's retained bridge state: "online" once its subscriptions are in place.
    chirpstack.on('message', (topic, payload) => {
      if (topic === 'portier/bridge/state') bridgeState = payload.toString();
    });
    await chirpstack.subscribeAsync('portier/bridge/state', { qos: 1 });
    configPath = join(dir, 'portier.yaml');
    writeFileSync(
      configPath,
      `version: 1
gateway: { id: ${GW}, state_dir: ${stateDir}, trust_system_clock: true }
log: { level: info }
admin: { metrics_open: true }
local_mqtt: { url: "${local.url}" }
cloud: { url: "${cloud.url}", batch_max_age_ms: 50 }
devices:
  - { id: wind-1, driver: nmea-weather-station, path: ${pty.gatewayPath}, aggregate_s: 0 }
  - { id: bay-1, driver: chirpstack-parking, dev_eui: ${BAY_EUI}, codec: nwave-nps405 }
`,
    );
  });

  afterAll(async () => {
    daemon?.kill('SIGKILL');
    await daemon?.exited;
    await sink?.endAsync();
    await chirpstack?.endAsync();
    await station?.close();
    await pty?.stop();
    await cloud?.stop();
    await local?.stop();
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  async function start(): Promise<{ d: PortierProcess; metrics: () => Promise<string> }> {
    const d = new PortierProcess(['run', '--config', configPath], {
      PORTIER_ADMIN_LISTEN: '127.0.0.1:0',
      RUNTIME_DIRECTORY: runtimeDir,
    });
    daemon = d;
    await d.waitFor((l) => l.msg === 'gateway ready', 30_000, 'gateway ready');
    const listening = await d.waitFor((l) => l.msg === 'admin API and dashboard listening', 15_000, 'admin API');
    return { d, metrics: async () => (await fetch(`${String(listening.url)}/metrics`)).text() };
  }

  /** A bay uplink as ChirpStack publishes it, at QoS 1. */
  async function uplink(occupied: boolean): Promise<void> {
    const body = JSON.stringify(bay.uplinkEvent(1, nps405Status(occupied, 12)));
    await chirpstack.publishAsync(bay.topic, body, { qos: 1 });
  }

  /** The events of `type` in the log, read by another connection as any reader of the log. */
  function readingsInLog(type = 'weather.reading'): Uplinked[] {
    const db = new BetterSqlite3(join(stateDir, DB_FILE), { readonly: true });
    try {
      return db
        .prepare('SELECT body FROM events WHERE type = ? ORDER BY seq')
        .pluck()
        .all(type)
        .map((b) => JSON.parse(b as string) as Uplinked);
    } finally {
      db.close();
    }
  }

  it('has every reading of the open window in the log once, with its time, and in the cloud', async () => {
    const first = await start();
    // The station's line is up (that device.health closed a window of its own): from here readings wait.
    await first.d.waitFor((l) => l.msg === 'device up' && l.device === 'wind-1', 15_000, 'station up');
    // The bay's first uplink once the gateway subscribed (its device.health closes the window at once): from here
    // its uplinks wait too.
    await eventually(() => bridgeState === 'online', 15_000, 'the gateway on the local broker');
    await uplink(true);
    await eventually(() => readingsInLog('parking.occupancy').length === 1, 15_000, 'the first bay event committed');
    const writtenAt: number[] = [];
    for (let i = 0; i < READINGS; i++) {
      writtenAt.push(Date.now());
      await station.write(mwv(1 + i / 10));
    }
    await uplink(false);
    // Read and waiting in the commit window: the daemon's own count, not a sleep.
    const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    const waiting = await eventually(
      async () => {
        const text = await first.metrics();
        return gauge(text, 'portier_commit_window_events') >= READINGS + 1 ? text : undefined;
      },
      10_000,
      `${READINGS} readings and an uplink waiting in the commit window`,
    );
    // The readings are journaled; the uplink, whose PUBACK waits for the commit, is not.
    expect(gauge(waiting, 'portier_crash_journal_entries')).toBe(READINGS);
    // Still inside the window: none of them is committed yet.
    expect(readingsInLog()).toEqual([]);
    expect(readingsInLog('parking.occupancy')).toHaveLength(1);
    const killedAt = Date.now();
    first.d.kill('SIGKILL');
    expect(await first.d.exited).toMatchObject({ signal: 'SIGKILL' });

    const second = await start();

    // In the log exactly once each, in the order read, each with the time it was read (before the kill).
    const inLog = readingsInLog();
    expect(inLog.map((e) => e.data.wind_speed_ms)).toEqual(writtenAt.map((_, i) => 1 + i / 10));
    expect(new Set(inLog.map((e) => e.id)).size).toBe(READINGS);
    for (const [i, e] of inLog.entries()) {
      const ts = Date.parse(e.ts);
      expect(ts).toBeGreaterThanOrEqual(writtenAt[i]!);
      expect(ts).toBeLessThan(killedAt);
    }

    const replayed = await second.d.waitFor(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('crash journal replayed'),
      5_000,
      'the replay line',
    );
    expect(replayed).toMatchObject({ level: 30, replayed: READINGS, damaged: 0 });
    expect(/^portier_crash_journal_replayed_total (\d+)$/m.exec(await second.metrics())?.[1]).toBe(String(READINGS));
    // The journal: in the runtime directory, the gateway user's alone.
    const files = readdirSync(runtimeDir).filter((f) => f.endsWith('.journal'));
    expect(files).toHaveLength(1);
    expect(statSync(join(runtimeDir, files[0]!)).mode & 0o777).toBe(0o600);

    // The bay's second uplink: delivered again by the broker, in the log once, after the replayed readings.
    const bayEvents = await eventually(
      () => {
        const events = readingsInLog('parking.occupancy');
        return events.length >= 2 ? events : undefined;
      },
      15_000,
      'the redelivered uplink committed',
    );
    expect(bayEvents.map((e) => e.data.occupied)).toEqual([true, false]);

    // And in the cloud, each once.
    const ids = new Set(inLog.map((e) => e.id));
    await eventually(
      () => uplinked.filter((e) => ids.has(e.id)).length >= READINGS,
      30_000,
      'the readings in the cloud',
    );
    const inCloud = uplinked.filter((e) => e.type === 'weather.reading');
    expect(inCloud.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(inCloud.map((e) => e.ts).sort()).toEqual(inLog.map((e) => e.ts).sort());
    second.d.kill('SIGTERM');
    await second.d.exited;
    daemon = undefined;
  }, 120_000);
});
