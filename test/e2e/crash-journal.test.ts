import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
 * read, and sends each to the town's cloud broker (a second real mosquitto).
 */
const GW = 'journal-gw';
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
  let configPath: string;
  let daemon: PortierProcess | undefined;
  const uplinked: Uplinked[] = [];

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
`,
    );
  });

  afterAll(async () => {
    daemon?.kill('SIGKILL');
    await daemon?.exited;
    await sink?.endAsync();
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

  /** The wind readings in the log, read by another connection as any reader of the log. */
  function readingsInLog(): Uplinked[] {
    const db = new BetterSqlite3(join(stateDir, DB_FILE), { readonly: true });
    try {
      return db
        .prepare("SELECT body FROM events WHERE type = 'weather.reading' ORDER BY seq")
        .pluck()
        .all()
        .map((b) => JSON.parse(b as string) as Uplinked);
    } finally {
      db.close();
    }
  }

  it('has every reading of the open window in the log once, with its time, and in the cloud', async () => {
    const first = await start();
    // The station's line is up (that device.health closed a window of its own): from here readings wait.
    await first.d.waitFor((l) => l.msg === 'device up' && l.device === 'wind-1', 15_000, 'station up');
    const writtenAt: number[] = [];
    for (let i = 0; i < READINGS; i++) {
      writtenAt.push(Date.now());
      await station.write(mwv(1 + i / 10));
    }
    // Read and waiting in the commit window: the daemon's own count, not a sleep.
    await eventually(
      async () => {
        const m = /^portier_commit_window_events (\d+)$/m.exec(await first.metrics());
        return Number(m?.[1] ?? 0) >= READINGS;
      },
      10_000,
      `${READINGS} readings waiting in the commit window`,
    );
    // Still inside the window: none of them is committed yet.
    expect(readingsInLog()).toEqual([]);
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
    // The journal: in the runtime directory, the gateway user's alone, emptied by the replay's commit.
    const files = readdirSync(runtimeDir).filter((f) => f.endsWith('.journal'));
    expect(files).toHaveLength(1);
    expect(statSync(join(runtimeDir, files[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(join(runtimeDir, files[0]!)).size).toBe(0);

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
