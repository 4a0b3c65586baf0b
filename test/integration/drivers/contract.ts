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

/** What a driver's contract test needs from its stub. */
export interface StubbedDevice {
  /** The device entry's driver settings. */
  settings: Record<string, unknown>;
  /** Make the device produce one ordinary input (a reading, an uplink, a contact change). */
  produce(): Promise<void>;
  /** Make the device produce one input the driver must reject, with the reason it must give; absent for devices with no byte stream. */
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

    it('counts a rejected input with its reason and keeps working', async () => {
      if (!device.produceBad) return;
      const host = gateway.hosts.get('dut')!;
      await device.produceBad.run();
      await eventually(() => (host.rejected.get(device.produceBad!.reason) ?? 0) > 0, 10_000, 'a counted rejection');
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

    it('emits nothing once stopped', async () => {
      await gateway.stopDevice('dut');
      const count = outputs.length;
      await device.produce();
      await new Promise((r) => setTimeout(r, 300));
      gateway.store.events.flush();
      expect(outputs.length).toBe(count);
    });
  });
}
