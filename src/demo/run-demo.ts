import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtinDrivers } from '../../devices/index.js';
import { createPtyPair } from '../../firmware-stubs/pty-pair.js';
import { Gateway } from '../app/gateway.js';
import { loadConfigFile } from '../config/load.js';
import { createLogger } from '../core/logger.js';
import { packageRoot } from '../core/package-root.js';
import { ensurePrivateDir } from '../store/private-files.js';
import { defaultTransports } from '../transports/index.js';
import { DEMO_BROKER_USERS, demoBrokerUsers, demoPasswordFile, urlWithUser } from './broker-users.js';
import { startDemoIssuer } from './demo-issuer.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { narrate } from './narrator.js';
import { startDemoStubs } from './stubs.js';

/** What the demo reads of the process (the CLI passes its own io). */
export interface DemoIo {
  env: NodeJS.ProcessEnv;
}

/**
 * How the daemon runs a started gateway until a signal stops it (the CLI's `run`, passed in by the CLI); `afterStop`
 * runs inside the graceful stop, before the process exits.
 */
export type RunUntilSignalled = (
  gateway: Gateway,
  log: ReturnType<typeof createLogger>,
  afterStop?: () => Promise<void>,
) => Promise<void>;

/**
 * The embedded default: an in-process MQTT broker, the firmware stubs on real ptys and simulated GPIO, and the
 * gateway on config/demo.yaml. Runs until Ctrl+C; state lives in .portier/demo (or PORTIER_DEMO_DIR).
 */
export async function runDemo(io: DemoIo, runUntilSignalled: RunUntilSignalled): Promise<number> {
  const root = packageRoot();
  const dir = resolve(io.env.PORTIER_DEMO_DIR ?? join(root, '.portier', 'demo'));
  // The demo folder holds the state, the printed pass and the broker passwords: the user's alone.
  ensurePrivateDir(dir);
  mkdirSync(join(dir, 'gpio'), { recursive: true });
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  /** Stop what started, newest first, once (at a signal, or when starting failed). */
  const undo = async (): Promise<void> => {
    for (const step of cleanup.splice(0).reverse()) await Promise.resolve(step()).catch(() => undefined);
  };
  let log: ReturnType<typeof createLogger> | undefined;
  try {
    const users = demoBrokerUsers(dir);
    const broker = await startEmbeddedBroker({ port: Number(io.env.PORTIER_DEMO_MQTT_PORT ?? 0), users });
    cleanup.push(() => broker.close());
    const devicesUser = users.find((u) => u.role === 'device')!;
    const env = {
      ...io.env,
      PORTIER_DEMO_DIR: dir,
      PORTIER_LOCAL_MQTT_URL: broker.url,
      PORTIER_DEMO_CLOUD_URL: broker.url,
    };
    const drivers = builtinDrivers();
    const loaded = loadConfigFile(join(root, 'config', 'demo.yaml'), drivers, env);
    log = createLogger({ level: loaded.config.log.level });
    log.info({ broker: broker.url, dir }, 'demo: embedded MQTT broker up; starting the simulated devices');
    const davisPty = await createPtyPair(dir, { gateway: 'davis', device: 'davis.device' });
    cleanup.push(() => davisPty.stop());
    const qrPty = await createPtyPair(dir, { gateway: 'qr-scanner', device: 'qr-scanner.device' });
    cleanup.push(() => qrPty.stop());
    const bays = loaded.devices.filter((d) => d.driver === 'chirpstack-parking').map((d) => String(d.settings.dev_eui));
    const stubs = await startDemoStubs({
      brokerUrl: urlWithUser(broker.url, devicesUser),
      davisPath: davisPty.devicePath,
      qrPath: qrPty.devicePath,
      gpioDir: join(dir, 'gpio'),
      bays,
    });
    cleanup.push(() => stubs.stop());
    const gateway = new Gateway({ ...loaded, drivers, transports: defaultTransports, log });
    cleanup.push(narrate(gateway, log));
    const web = loaded.devices.find((d) => d.driver === 'http-pass-reader');
    const issuer = await startDemoIssuer({
      demoDir: dir,
      brokerUrl: broker.url,
      passwordFile: demoPasswordFile(dir, 'issuer'),
      gateway,
      port: Number(io.env.PORTIER_DEMO_ISSUER_PORT ?? 8090),
      passPageUrl: `http://127.0.0.1:${String(web?.settings.port ?? 8088)}/door/toilet-1`,
      log,
    });
    if (issuer) cleanup.push(() => issuer.close());
    const operator = DEMO_BROKER_USERS.find((u) => u.role === 'operator')!.username;
    log.info(
      `demo: watch bays change and weather arrive; see events live with mosquitto_sub -h 127.0.0.1 -p ${broker.port} ` +
        `-u ${operator} -P "$(cat ${demoPasswordFile(dir, operator)})" -t 'portier/#' -v; stop with Ctrl+C`,
    );
    await runUntilSignalled(gateway, log, undo);
  } finally {
    // Whatever started is stopped, also when the config or a stub fails, so the process can exit.
    await undo();
  }
  log?.info('demo stopped');
  return 0;
}
