import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, PortierProcess } from '../helpers/daemon.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { type Rig, startRig } from '../helpers/rig.js';
import { tempDir } from '../helpers/tmp.js';

const HOOK = join(import.meta.dirname, '..', 'helpers', 'record-packages.mjs');
const ready = (l: { msg?: string }) => l.msg === 'gateway ready';

/** The daemon as a process, with every package it resolves recorded in a file (see record-packages.mjs). */
function recordedDaemon(configPath: string): { daemon: PortierProcess; packages: () => Set<string> } {
  const file = join(tempDir('portier-packages-'), 'packages.txt');
  const daemon = new PortierProcess(['run', '--config', configPath], {
    NODE_OPTIONS: `--import ${HOOK}`,
    PORTIER_TEST_PACKAGES_FILE: file,
  });
  const packages = () =>
    new Set(existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : ([] as string[]));
  return { daemon, packages };
}

/** What only the demo, `token issue --qr`, pretty logs, serial devices, CoAP devices or a Pi's GPIO need. */
const OPTIONAL = ['aedes', 'qrcode', 'pino-pretty', 'serialport', 'node-coap-client', 'onoff'];

describe('libraries only an optional feature needs are loaded only then (issue 14)', () => {
  let broker: Broker;
  let rig: Rig;

  beforeAll(async () => {
    broker = await startMosquitto();
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.stop();
    await broker?.stop();
  });

  it('a daemon with ChirpStack bays only has not loaded the broker, QR drawing, pretty logs, serial or CoAP', async () => {
    const dir = tempDir('portier-lazy-');
    const configPath = join(dir, 'portier.yaml');
    writeFileSync(
      configPath,
      `version: 1
gateway: { id: lazy-gw, state_dir: ${join(dir, 'state')} }
log: { level: info }
local_mqtt: { url: "${broker.url}" }
admin: { listen: "127.0.0.1:0" }
devices:
  - { id: bay-1, driver: chirpstack-parking, dev_eui: 70b3d5e75e000011, codec: nwave-nps405 }
  - { id: bay-2, driver: chirpstack-parking, dev_eui: 70b3d5e75e000012, codec: bosch-tps110 }
`,
    );
    const { daemon, packages } = recordedDaemon(configPath);
    try {
      await daemon.waitFor(ready, 30_000, 'gateway ready');
      await daemon.waitFor((l) => l.msg === 'link up', 15_000, 'local link up');
      const loaded = packages();
      // The hook sees what the daemon loads: the libraries it runs on are there.
      expect([...loaded]).toEqual(expect.arrayContaining(['mqtt', 'better-sqlite3', 'fastify', 'pino', 'zod']));
      expect(OPTIONAL.filter((p) => loaded.has(p))).toEqual([]);
    } finally {
      daemon.kill('SIGTERM');
      expect((await daemon.exited).code).toBe(0);
    }
  });

  it('a daemon with a QR reader on a serial port loads serialport at start, before any scan', async () => {
    const { daemon, packages } = recordedDaemon(rig.configPath);
    try {
      await daemon.waitFor(ready, 30_000, 'gateway ready');
      // The reader's link opens at its device's start (asynchronously, so possibly just after READY).
      await eventually(() => packages().has('serialport'), 15_000, 'serialport loaded');
      expect(OPTIONAL.filter((p) => packages().has(p))).toEqual(['serialport']);
    } finally {
      daemon.kill('SIGTERM');
      expect((await daemon.exited).code).toBe(0);
    }
  });
});
