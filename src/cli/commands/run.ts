import closeWithGrace from 'close-with-grace';
import { builtinDrivers } from '../../../devices/index.js';
import { startOperatorSurface } from '../../admin/operator.js';
import { createSdNotifier, startWatchdog } from '../../admin/sd-notify.js';
import { markDaemonRunning } from '../../app/daemon-lock.js';
import { Gateway } from '../../app/gateway.js';
import { loadConfigFile } from '../../config/load.js';
import { reasonOf } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { isDiskFull } from '../../store/disk-space.js';
import { defaultTransports } from '../../transports/index.js';
import { type Command, configFileOption, str, UsageError } from '../command.js';

/** ms the daemon has to stop after SIGTERM before it exits anyway (systemd's own limit is longer). */
const STOP_GRACE_MS = 4500;

export const runCommand: Command = {
  path: ['run'],
  summary: 'Run the gateway daemon in the foreground (systemd runs this)',
  usage: '[--config FILE]   (or PORTIER_CONFIG)',
  options: configFileOption(),
  async run(args, io) {
    const path = str(args, 'config') ?? io.env.PORTIER_CONFIG;
    if (!path) throw new UsageError('give --config FILE or set PORTIER_CONFIG');
    const loaded = loadConfigFile(path, builtinDrivers(), io.env);
    const log = createLogger({ level: loaded.config.log.level });
    for (const note of loaded.notes) log.info({ config: path }, note);
    const gateway = new Gateway({ ...loaded, drivers: builtinDrivers(), transports: defaultTransports, log });
    await runUntilSignalled(gateway, log);
    return 0;
  },
};

/**
 * Start the gateway and keep it running until SIGTERM/SIGINT, then stop it within STOP_GRACE_MS: drivers first,
 * then the log flush, then the database, then `afterStop` (what the caller started around the gateway: the demo's
 * broker, stubs and socat processes). close-with-grace exits the process once this is done, so whatever must be
 * stopped has to be stopped here, not after this resolves.
 */
export async function runUntilSignalled(
  gateway: Gateway,
  log: ReturnType<typeof createLogger>,
  afterStop?: () => Promise<void>,
): Promise<void> {
  const sd = createSdNotifier({ log });
  await gateway.start({ holdBackground: true });
  // `portier restore` refuses while this names a live process.
  const unmark = markDaemonRunning(gateway.config.gateway.state_dir);
  const { admin, privacy } = gateway.config;
  const ops = await startOperatorSurface(gateway, {
    log,
    retentionDays: privacy.retention_days,
    ...(gateway.cloud ? { backlog: gateway.cloud.outbox } : {}),
    ...(admin.enabled ? { listen: admin.listen } : {}),
    ...(admin.tls_cert_file && admin.tls_key_file
      ? { tlsCertFile: admin.tls_cert_file, tlsKeyFile: admin.tls_key_file }
      : {}),
  });
  sd.ready(`${gateway.hosts.size} devices`);
  // After READY: these read the whole backlog or the whole file, and the doors must not wait for them.
  gateway.startBackground();
  void gateway.checkIntegrity();
  // A device that is down is the device's problem; a store that cannot answer is the gateway's, and a restart helps.
  const watchdog = startWatchdog({ notifier: sd, log, isHealthy: () => gateway.healthy() });
  await new Promise<void>((resolve) => {
    let fatal: unknown;
    const closer = closeWithGrace(
      {
        delay: STOP_GRACE_MS,
        logger: { error: (m: unknown) => log.error(m) },
        // Errors are sorted below: a write that failed on a full disk must not stop the doors.
        skip: ['uncaughtException', 'unhandledRejection'],
      },
      async ({ signal }) => {
        if (fatal !== undefined) log.fatal({ err: fatal }, 'fatal error, stopping');
        else log.info({ signal }, 'stopping');
        sd.stopping();
        watchdog.stop();
        await ops.close();
        await gateway.stop();
        unmark();
        await afterStop?.();
        sd.close();
        resolve();
        if (fatal !== undefined) process.exit(1);
      },
    );
    const onError = (err: unknown): void => {
      if (isDiskFull(err) && fatal === undefined) {
        // The write was rolled back whole; the disk guard keeps what it can off the disk and raises the alarm.
        log.error({ err: reasonOf(err) }, 'a write failed because the disk is full; the gateway keeps running');
        gateway.store.events.relieve(err);
        return;
      }
      if (fatal !== undefined) {
        log.error({ err }, 'second error while stopping, exiting');
        process.exit(1);
      }
      fatal = err;
      void closer.close();
    };
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
  });
}
