import type { Logger } from 'pino';
import type { GatewaySignals } from '../core/driver.js';
import { reasonOf } from '../core/errors.js';
import type { Gateway } from '../core/gateway.js';
import type { TimeUnknownPolicy } from './policy.js';
import { AccessService, type Decision } from './service.js';

/** What a lock device's settings may say about access (every lock driver's schema includes these). */
export interface LockAccessSettings {
  /** Groups for `group:NAME` audiences. */
  groups?: string[];
  /** The door's rule when the gateway does not know the time. */
  time_unknown?: TimeUnknownPolicy;
}

/**
 * Joins readers to locks: every `credential` a reader presents is decided by the AccessService (durably committed
 * before this returns), and a grant then moves the lock's relay through its `unlock` command. The door never
 * waits for the network: nothing here leaves the gateway.
 */
export class AccessController {
  readonly service: AccessService;
  private readonly log: Logger;
  private off: (() => void) | undefined;

  constructor(private readonly gateway: Gateway) {
    this.log = gateway.rootLog.child({ component: 'access' });
    this.service = new AccessService({
      store: gateway.store,
      timezone: gateway.config.gateway.timezone,
      metrics: gateway.metrics,
      log: gateway.rootLog,
    });
  }

  start(): void {
    this.off = this.gateway.bus.on('credential', (c) => {
      void this.present(c);
    });
  }

  stop(): void {
    this.off?.();
  }

  /** Decide one credential at a lock and open it when granted. Returns the committed decision. */
  async present(c: GatewaySignals['credential']): Promise<Decision> {
    const settings = (this.gateway.store.devices.get(c.lock)?.config ?? {}) as LockAccessSettings;
    const decision = this.service.decide({
      lock: c.lock,
      lockGroups: settings.groups ?? [],
      credential: { kind: c.kind, value: c.value },
      timeUnknownPolicy: settings.time_unknown ?? 'deny',
      reader: c.reader,
    });
    if (decision.granted) await this.open(c.lock);
    return decision;
  }

  private async open(lock: string): Promise<void> {
    const host = this.gateway.hosts.get(lock);
    if (!host) {
      this.log.error({ lock }, 'granted, but the lock is not running');
      return;
    }
    try {
      await host.command('unlock', {});
    } catch (err) {
      this.log.error({ lock, err: reasonOf(err) }, 'granted, but the lock did not open');
    }
  }
}
