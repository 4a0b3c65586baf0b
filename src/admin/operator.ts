import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { BacklogSource } from '../store/outbox-query.js';
import { type HaDiscoveryHandle, startHaDiscovery } from './ha-publisher.js';
import { type NgsiLdPushHandle, startNgsiLdPush } from './ngsi-ld-push.js';
import { NgsiLdSource } from './ngsi-ld-source.js';
import type { OperatedGateway } from './operated-gateway.js';
import { type RetentionHandle, startRetention } from './retention.js';
import { type AdminServer, readVersion, startAdmin } from './server.js';

export interface OperatorOptions {
  log: Logger;
  /**
   * Admin API: `host:port`, or undefined to leave it off (config `admin.enabled: false`). If it cannot start, the
   * error is logged and it is retried every `adminRetryMs`; `admin` is then set once it runs.
   */
  listen?: string;
  /** TLS for the admin API: PEM file paths. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** days local events are kept (privacy); undefined keeps them (the sync service's own pruning still applies) */
  retentionDays?: number;
  /** Home Assistant discovery on the local broker; default on when local_mqtt is configured. */
  haDiscovery?: boolean;
  /** ms between attempts to start the admin API after it failed (port in use, unreadable TLS files), default 30000 */
  adminRetryMs?: number;
  /** The cloud sync's outbox (in-memory per-lane counts), when the cloud is configured. */
  backlog?: BacklogSource;
}

export interface OperatorSurface {
  admin?: AdminServer;
  ha?: HaDiscoveryHandle;
  retention?: RetentionHandle;
  ngsiLdPush?: NgsiLdPushHandle;
  /** Stop all of it; call before gateway.stop(). */
  close(): Promise<void>;
}

/**
 * Everything an operator reaches on a running gateway, started together after `gateway.start()`: the admin API and
 * dashboard, Home Assistant discovery, the retention purge, and the NGSI-LD push to a context broker. One call for the daemon and the demo to wire.
 */
export async function startOperatorSurface(gateway: OperatedGateway, opts: OperatorOptions): Promise<OperatorSurface> {
  const surface: OperatorSurface = { close: async () => undefined };
  const started: Array<() => Promise<void> | void> = [];
  const retryMs = opts.adminRetryMs ?? 30_000;
  let closed = false;
  try {
    if (opts.retentionDays !== undefined) {
      const retention = startRetention(gateway, { days: opts.retentionDays });
      surface.retention = retention;
      started.push(() => retention.close());
    }
    const push = gateway.config.ngsi_ld?.push;
    if (push) {
      const source = new NgsiLdSource(gateway);
      const handle = startNgsiLdPush(source, push, { registry: gateway.metrics.registry, log: gateway.rootLog });
      surface.ngsiLdPush = handle;
      started.push(async () => {
        await handle.close();
        source.close();
      });
    }
    if (opts.listen !== undefined) {
      const listen = opts.listen;
      // A port still held by the previous instance, or a bad certificate file, must not keep the doors down:
      // the gateway runs on and the admin API is tried again until it starts.
      const tryStart = async (): Promise<boolean> => {
        try {
          const admin = await startAdmin(gateway, {
            listen,
            stateDir: gateway.config.gateway.state_dir,
            log: opts.log,
            ...tlsOf(opts),
            ...(opts.backlog ? { backlog: opts.backlog } : {}),
          });
          if (closed) {
            await admin.close();
            return true;
          }
          surface.admin = admin;
          started.push(() => admin.close());
          return true;
        } catch (err) {
          opts.log.error(
            { listen, reason: reasonOf(err), retry_ms: retryMs },
            'admin API not started (the gateway keeps running); trying again',
          );
          return false;
        }
      };
      if (!(await tryStart())) {
        let busy = false;
        const timer = setInterval(() => {
          if (busy) return;
          busy = true;
          void tryStart().then((ok) => {
            busy = false;
            if (ok) clearInterval(timer);
          });
        }, retryMs);
        timer.unref();
        started.push(() => clearInterval(timer));
      }
    }
    if (opts.haDiscovery !== false && gateway.config.local_mqtt) {
      const ha = startHaDiscovery(gateway, {
        swVersion: readVersion(),
        ...(surface.admin ? { configurationUrl: `${surface.admin.url}/` } : {}),
      });
      surface.ha = ha;
      started.push(() => ha.close());
    }
  } catch (err) {
    for (const stop of [...started].reverse()) await stop();
    throw err;
  }
  surface.close = async () => {
    closed = true;
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
