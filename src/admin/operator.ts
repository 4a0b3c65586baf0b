import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { Gateway } from '../core/gateway.js';
import { type HaDiscoveryHandle, startHaDiscovery } from './ha-publisher.js';
import type { BacklogSource } from './outbox-query.js';
import { type RetentionHandle, startRetention } from './retention.js';
import { type AdminServer, startAdmin } from './server.js';

export interface OperatorOptions {
  log: Logger;
  /** Admin API: `host:port`, or undefined to leave it off (config `admin.enabled: false`). */
  listen?: string;
  /** TLS for the admin API: PEM file paths. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** days local events are kept (privacy); undefined keeps them (the sync service's own pruning still applies) */
  retentionDays?: number;
  /** Home Assistant discovery on the local broker; default on when local_mqtt is configured. */
  haDiscovery?: boolean;
  /** The cloud sync's outbox (in-memory per-lane counts), when the cloud is configured. */
  backlog?: BacklogSource;
}

export interface OperatorSurface {
  admin?: AdminServer;
  ha?: HaDiscoveryHandle;
  retention?: RetentionHandle;
  /** Stop all of it; call before gateway.stop(). */
  close(): Promise<void>;
}

/**
 * Everything an operator reaches on a running gateway, started together after `gateway.start()`: the admin API and
 * dashboard, Home Assistant discovery, and the retention purge. One call for the daemon and the demo to wire.
 */
export async function startOperatorSurface(gateway: Gateway, opts: OperatorOptions): Promise<OperatorSurface> {
  const surface: OperatorSurface = { close: async () => undefined };
  const started: Array<() => Promise<void> | void> = [];
  try {
    if (opts.retentionDays !== undefined) {
      const retention = startRetention(gateway, { days: opts.retentionDays });
      surface.retention = retention;
      started.push(() => retention.close());
    }
    if (opts.listen !== undefined) {
      const admin = await startAdmin(gateway, {
        listen: opts.listen,
        stateDir: gateway.config.gateway.state_dir,
        log: opts.log,
        ...tlsOf(opts),
        ...(opts.backlog ? { backlog: opts.backlog } : {}),
      });
      surface.admin = admin;
      started.push(() => admin.close());
    }
    if (opts.haDiscovery !== false && gateway.config.local_mqtt) {
      const ha = startHaDiscovery(gateway, surface.admin ? { configurationUrl: `${surface.admin.url}/` } : {});
      surface.ha = ha;
      started.push(() => ha.close());
    }
  } catch (err) {
    for (const stop of [...started].reverse()) await stop();
    throw err;
  }
  surface.close = async () => {
    const stops = started.splice(0).reverse();
    for (const stop of stops) await stop();
  };
  return surface;
}

function tlsOf(opts: OperatorOptions): { tls?: { cert: Buffer; key: Buffer } } {
  if (opts.tlsCertFile === undefined && opts.tlsKeyFile === undefined) return {};
  if (!opts.tlsCertFile || !opts.tlsKeyFile) {
    throw new PortierError(ErrorCode.ConfigInvalid, 'admin TLS needs both a certificate file and a key file');
  }
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new PortierError(ErrorCode.ConfigInvalid, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code}`);
    }
  };
  return { tls: { cert: read(opts.tlsCertFile), key: read(opts.tlsKeyFile) } };
}
