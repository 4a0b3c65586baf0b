import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtinDrivers } from '../../devices/index.js';
import { createPtyPair } from '../../firmware-stubs/pty-pair.js';
import type { CliIo } from '../cli/command.js';
import { runUntilSignalled } from '../cli/commands/run.js';
import { loadConfigFile } from '../config/load.js';
import { Gateway } from '../core/gateway.js';
import { createLogger } from '../core/logger.js';
import { defaultTransports } from '../transports/index.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { narrate } from './narrator.js';
import { packageRoot } from './package-root.js';
import { startDemoStubs } from './stubs.js';

/**
 * The embedded default: an in-process MQTT broker, the firmware stubs on real ptys and simulated GPIO, and the
 * gateway on config/demo.yaml. Runs until Ctrl+C; state lives in .portier/demo (or PORTIER_DEMO_DIR).
 */
export async function runDemo(io: CliIo): Promise<number> {
  const root = packageRoot();
  const dir = resolve(io.env.PORTIER_DEMO_DIR ?? join(root, '.portier', 'demo'));
  mkdirSync(join(dir, 'gpio'), { recursive: true });
  const broker = await startEmbeddedBroker(Number(io.env.PORTIER_DEMO_MQTT_PORT ?? 0));
  const env = { ...io.env, PORTIER_DEMO_DIR: dir, PORTIER_LOCAL_MQTT_URL: broker.url };
  const drivers = builtinDrivers();
  const loaded = loadConfigFile(join(root, 'config', 'demo.yaml'), drivers, env);
  const log = createLogger({ level: loaded.config.log.level });
  log.info({ broker: broker.url, dir }, 'demo: embedded MQTT broker up; starting the simulated devices');
  const davisPty = await createPtyPair(dir, { gateway: 'davis', device: 'davis.device' });
  const qrPty = await createPtyPair(dir, { gateway: 'qr-scanner', device: 'qr-scanner.device' });
  const bays = loaded.devices.filter((d) => d.driver === 'chirpstack-parking').map((d) => String(d.settings.dev_eui));
  const stubs = await startDemoStubs({
    brokerUrl: broker.url,
    davisPath: davisPty.devicePath,
    qrPath: qrPty.devicePath,
    gpioDir: join(dir, 'gpio'),
    bays,
  });
  const gateway = new Gateway({ ...loaded, drivers, transports: defaultTransports, log });
  const stopNarrating = narrate(gateway, log);
  log.info(
    `demo: watch bays change and weather arrive; see events live with mosquitto_sub -L ${broker.url}/portier/%23 -v; stop with Ctrl+C`,
  );
  try {
    await runUntilSignalled(gateway, log);
  } finally {
    stopNarrating();
    await stubs.stop();
    await Promise.allSettled([davisPty.stop(), qrPty.stop()]);
    await broker.close();
  }
  log.info('demo stopped');
  return 0;
}
