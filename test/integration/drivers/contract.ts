import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../devices/index.js';
import type { Gateway } from '../../../src/app/gateway.js';
import type { DriverDefinition } from '../../../src/core/driver.js';
import type { PortierEvent } from '../../../src/core/events.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

/** The drivers whose contract this test process runs, filled as `driverContract` is called (for the coverage test). */
export const contracted = new Set<string>();

/**
 * Drivers that cannot receive a malformed input, and why: they get no rejected-input test. Every other driver's
 * stub must produce one (`produceBad`), or its contract fails.
 */
export const NO_BAD_INPUT: Readonly<Record<string, string>> = {
  'gpio-relay-lock': 'it reads the levels of GPIO lines (contact, exit button): a level cannot be malformed',
  'loop-detector': 'it reads the level of a GPIO line: a level cannot be malformed',
  'public-toilet': 'it reads the levels of GPIO lines (bolt, contact): a level cannot be malformed',
  'parking-zone': "it has no wire: it derives from other devices' committed events",
};

/** What a driver's contract test needs from its stub. */
export interface StubbedDevice {
  /** The device entry's driver settings. */
  settings: Record<string, unknown>;
  /** Make the device produce one ordinary input (a reading, an uplink, a contact change). */
  produce(): Promise<void>;
  /** Make the device produce one input the driver must reject, with the reason it must give (absent only for NO_BAD_INPUT). */
  produceBad?: { reason: string; run(): Promise<void> };
  stop(): Promise<void>;
}

export interface ContractEnv {
  dir: string;
  gpioDir: string;
  broker: Broker;
}

/**
 * The contract every driver keeps, run against the driver with its firmware stub on real wires (mosquitto, ptys,
 * sim GPIO files) inside a real gateway (as MQTT.js runs one abstract store suite against every store):
 * listed once in devices/index.ts, strict config schema, events only of its declared types, a rejected input
 * counted without stopping the driver, and silence after stop.
 */
export function driverContract(driverId: string, setup: (env: ContractEnv) => Promise<StubbedDevice>): void {
  contracted.add(driverId);
  describe(`driver contract: ${driverId}`, () => {
    let env: ContractEnv;
    let device: StubbedDevice;
    let gateway: Gateway;
    const events: PortierEvent[] = [];
    /** What the device produced: its events other than health, and the credentials a reader hands to access. */
    const outputs: string[] = [];
    const def = DRIVERS.find((d) => d.id === driverId) as DriverDefinition;

    beforeAll(async () => {
      const dir = tempDir('portier-contract-');
      const gpioDir = join(dir, 'gpio');
      mkdirSync(gpioDir);
      env = { dir, gpioDir, broker: await startMosquitto() };
      device = await setup(env);
      ({ gateway } = await startTestGateway({
        dir,
        gpioDir,
        brokerUrl: env.broker.url,
        devices: [{ id: 'dut', driver: driverId, settings: device.settings }],
      }));
      gateway.bus.on('event', (e) => {
        if (e.dev !== 'dut') return;
        events.push(e);
        if (e.type !== 'device.health') outputs.push(e.type);
      });
      gateway.bus.on('credential', (c) => {
        if (c.reader === 'dut') outputs.push(`credential:${c.kind}`);
      });
    });

    afterAll(async () => {
      await gateway?.stop();
      await device?.stop();
      await env?.broker.stop();
    });

    it('is listed once, with a description, a kind and its event types', () => {
      expect(DRIVERS.filter((d) => d.id === driverId)).toHaveLength(1);
      expect(def.description.length).toBeGreaterThan(10);
      expect(def.events.length).toBeGreaterThan(0);
    });

    it('refuses unknown settings (a typo in the config is an error, not a silent default)', () => {
      const result = def.config.safeParse({ ...device.settings, no_such_setting: 1 });
      expect(result.success).toBe(false);
    });

    it('turns its device input into events of its declared types (or credentials, for a reader)', async () => {
      await eventually(
        () => {
          void device.produce();
          return outputs.length > 0;
        },
        15_000,
        `an event from ${driverId}`,
      );
      for (const e of events) expect([...def.events, 'device.health', 'alarm']).toContain(e.type);
    });

    // Generated only for drivers that can receive bad input; for them a stub without `produceBad` fails here.
    if (!(driverId in NO_BAD_INPUT)) {
      it('counts a rejected input with its reason and keeps working', async () => {
        const bad = device.produceBad;
        expect(bad, `the stub of ${driverId} must produce a bad input`).toBeDefined();
        const host = gateway.hosts.get('dut')!;
        await bad!.run();
        await eventually(() => (host.rejected.get(bad!.reason) ?? 0) > 0, 10_000, 'a counted rejection');
        const after = outputs.length;
        await eventually(
          () => {
            void device.produce();
            return outputs.length > after;
          },
          10_000,
          'an event after the rejection',
        );
      });
    }

    it('emits nothing once stopped', async () => {
      await gateway.stopDevice('dut');
      // What the driver recorded before it stopped is committed now, so only later events could change the count.
      gateway.store.events.flush();
      const count = outputs.length;
      await device.produce();
      await new Promise((r) => setTimeout(r, 300));
      gateway.store.events.flush();
      expect(outputs.length).toBe(count);
    });
  });
}
