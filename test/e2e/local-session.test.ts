import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import { PortierProcess, ROOT } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';

/** The mosquitto settings Portier ships for the gateway's local broker, used here as an operator installs them. */
const SHIPPED_CONF = join(ROOT, 'config', 'mosquitto', 'portier.conf');
const EUIS = ['70b3d5e75e00a001', '70b3d5e75e00a002', '70b3d5e75e00a003', '70b3d5e75e00a004'];
/** ms between uplinks (round robin over the sensors): 100 uplinks/s. */
const TICK_MS = 10;
const KILLS = 20;

const ready = (l: { msg?: string }) => l.msg === 'gateway ready';

/**
 * ChirpStack v4 publishing Nwave uplinks at QoS 1 (`[integration.mqtt] qos=1`) at a steady rate. An uplink counts
 * as sent once the broker acknowledged it (PUBACK): from then on the broker, not ChirpStack, must deliver it.
 */
class UplinkStream {
  /** `<dev_eui>:<fCnt>` of every uplink the broker acknowledged. */
  readonly acked = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private n = 0;

  private constructor(private readonly sensors: ChirpstackSensorStub[]) {}

  static async start(url: string): Promise<UplinkStream> {
    const sensors = EUIS.map((devEui) => new ChirpstackSensorStub({ brokerUrl: url, devEui, qos: 1 }));
    await Promise.all(sensors.map((s) => s.start()));
    const stream = new UplinkStream(sensors);
    stream.timer = setInterval(() => stream.tick(), TICK_MS);
    return stream;
  }

  /** Uplinks handed to the MQTT client so far (acknowledged or not yet). */
  get sent(): number {
    return this.n;
  }

  /** Stop sending and wait for the broker to acknowledge everything already sent. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.pending);
    await Promise.all(this.sensors.map((s) => s.stop()));
  }

  private tick(): void {
    const i = this.n++;
    const sensor = this.sensors[i % this.sensors.length]!;
    const event = sensor.uplinkEvent(1, nps405Status(i % 3 === 0));
    const key = `${EUIS[i % EUIS.length]}:${(event.fCnt as number | undefined) ?? 0}`;
    const p = sensor.publishRaw(JSON.stringify(event)).then(
      () => {
        this.acked.add(key);
      },
      () => undefined,
    );
    this.pending.add(p);
    void p.then(() => this.pending.delete(p));
  }
}

function writeConfig(dir: string, brokerUrl: string): string {
  const path = join(dir, 'portier.yaml');
  writeFileSync(
    path,
    `version: 1
gateway: { id: gw-session, state_dir: ${join(dir, 'state')}, trust_system_clock: true }
log: { level: info }
local_mqtt: { url: "${brokerUrl}" }
admin: { enabled: false }
devices:
${EUIS.map((eui, i) => `  - { id: bay-${i + 1}, driver: chirpstack-parking, dev_eui: ${eui}, codec: nwave-nps405 }`).join('\n')}
`,
  );
  return path;
}

/** `<dev_eui>:<f_cnt>` of every parking.occupancy event in the log, with how many events each has. */
function loggedUplinks(stateDir: string): Map<string, number> {
  const db = new BetterSqlite3(join(stateDir, 'portier.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        "SELECT dev, json_extract(body, '$.data.f_cnt') AS f FROM events WHERE type = 'parking.occupancy' ORDER BY seq",
      )
      .all() as Array<{ dev: string; f: number }>;
    const out = new Map<string, number>();
    for (const r of rows) {
      const key = `${EUIS[Number(r.dev.slice(4)) - 1]}:${r.f}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  } finally {
    db.close();
  }
}

function missingFrom(acked: Set<string>, logged: Map<string, number>): string[] {
  return [...acked].filter((k) => !logged.has(k));
}

describe('uplinks through the local broker while the gateway or the broker restarts', () => {
  let broker: Broker | undefined;
  let stream: UplinkStream | undefined;
  let daemon: PortierProcess | undefined;

  afterEach(async () => {
    daemon?.kill('SIGKILL');
    await stream?.stop();
    await broker?.stop();
    daemon = stream = broker = undefined;
  });

  it(`loses no uplink across ${KILLS} kill -9 of the daemon under a steady QoS 1 stream`, async () => {
    broker = await startMosquitto({ configFile: SHIPPED_CONF });
    const dir = tempDir('portier-session-');
    const config = writeConfig(dir, broker.url);
    // The first run creates the persistent session; from then on the broker queues for it.
    daemon = new PortierProcess(['run', '--config', config]);
    await daemon.waitFor(ready, 20_000, 'gateway ready');
    await daemon.waitFor((l) => l.component === 'local-mqtt' && l.msg === 'link up', 20_000, 'local link up');
    stream = await UplinkStream.start(broker.url);
    const s = stream;
    let sentWhileDown = 0;
    for (let k = 0; k < KILLS; k++) {
      // Kill at a varying point of the stream: after 10-120 more uplinks, while some await their commit.
      const killAt = s.sent + 10 + Math.floor(Math.random() * 110);
      await eventually(() => s.sent >= killAt, 20_000, `uplink ${killAt} sent`);
      daemon.kill('SIGKILL');
      await daemon.exited;
      // Down for at least 20 uplinks (0.2 s), as long as a restart takes.
      const downFrom = s.sent;
      daemon = new PortierProcess(['run', '--config', config]);
      await eventually(() => s.sent >= downFrom + 20, 20_000, 'uplinks while down');
      await daemon.waitFor(ready, 20_000, `gateway ready after kill ${k + 1}`);
      await daemon.waitFor((l) => l.component === 'local-mqtt' && l.msg === 'link up', 20_000, 'local link up');
      sentWhileDown += s.sent - downFrom;
    }
    await s.stop();
    const stateDir = join(dir, 'state');
    await eventually(() => missingFrom(s.acked, loggedUplinks(stateDir)).length === 0, 30_000, 'every uplink logged');
    daemon.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);

    const logged = loggedUplinks(stateDir);
    expect(missingFrom(s.acked, logged)).toEqual([]);
    expect(s.acked.size).toBe(s.sent);
    // At least once: an uplink committed just before a kill, whose PUBACK had not left yet, comes again.
    const duplicates = [...logged.values()].filter((n) => n > 1).length;
    console.log(
      `${s.acked.size} uplinks, ${sentWhileDown} sent while the daemon was down or starting, ${duplicates} logged twice`,
    );
    expect(sentWhileDown).toBeGreaterThanOrEqual(KILLS * 20);
  }, 180_000);

  it('loses no uplink when the local broker restarts under a steady QoS 1 stream', async () => {
    broker = await startMosquitto({ configFile: SHIPPED_CONF });
    const b = broker;
    const dir = tempDir('portier-session-');
    const config = writeConfig(dir, b.url);
    daemon = new PortierProcess(['run', '--config', config]);
    await daemon.waitFor(ready, 20_000, 'gateway ready');
    await daemon.waitFor((l) => l.component === 'local-mqtt' && l.msg === 'link up', 20_000, 'local link up');
    stream = await UplinkStream.start(b.url);
    const s = stream;
    const d = daemon;
    const linkUps = () => d.lines.filter((l) => l.component === 'local-mqtt' && l.msg === 'link up').length;
    for (let k = 0; k < 3; k++) {
      const at = s.sent + 100;
      await eventually(() => s.sent >= at, 20_000, `uplink ${at} sent`);
      const ups = linkUps();
      // The daemon is held (SIGSTOP) across the restart, so the sensors' clients certainly come back first and
      // deliver what they queued before the gateway has reconnected: only its session, kept on disk by the
      // broker across the restart, can hold those uplinks for it.
      d.kill('SIGSTOP');
      await b.stop();
      await b.restart();
      const acked = s.acked.size;
      await eventually(() => s.acked.size >= acked + 50, 20_000, 'uplinks delivered to the restarted broker');
      d.kill('SIGCONT');
      await eventually(() => linkUps() > ups, 30_000, 'gateway back on the broker');
    }
    await s.stop();
    const stateDir = join(dir, 'state');
    await eventually(() => missingFrom(s.acked, loggedUplinks(stateDir)).length === 0, 30_000, 'every uplink logged');
    daemon.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(missingFrom(s.acked, loggedUplinks(stateDir))).toEqual([]);
    expect(s.acked.size).toBe(s.sent);
  }, 120_000);
});
