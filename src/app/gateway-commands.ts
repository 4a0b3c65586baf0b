import { stringify } from 'yaml';
import type { AccessController } from '../access/controller.js';
import { ConfigError, parseConfigText } from '../config/load.js';
import type { DriverRegistry } from '../core/driver-registry.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { DeviceProvisioning, DeviceRequest, RunningDevices } from '../core/ports.js';
import type { Store } from '../store/store.js';
import type { CommandHandlers, CommandResult } from '../sync/commands/handlers.js';
import type { DeviceSpec, PublicJwks, RevocationEntry, RevocationList } from '../sync/commands/schema.js';

/** ms a device set applied by `set-config` has to come up before it is rolled back */
const HEALTH_WAIT_MS = 5000;

function toRequest(d: DeviceSpec): DeviceRequest {
  const { id, driver, name, enabled, ...settings } = d;
  const req: DeviceRequest = { id, driver, settings };
  if (name !== undefined) req.name = name;
  if (enabled !== undefined) req.enabled = enabled;
  return req;
}

/** What the handlers act on (the gateway, through its ports). */
export interface CommandTarget {
  readonly store: Store;
  readonly drivers: DriverRegistry;
  readonly hosts: RunningDevices;
  readonly provisioning: DeviceProvisioning;
  readonly access: AccessController;
}

/**
 * What signed cloud commands do on this gateway. Every effect goes through the same paths as the CLI and the admin
 * API (provisioning, the access service), so the cloud gets no back door: `open-with-pass` is decided like a scan
 * at the door, and a broker alone can never open one.
 */
export class GatewayCommandHandlers implements CommandHandlers {
  constructor(private readonly gateway: CommandTarget) {}

  checkDevices(devices: DeviceSpec[]): string[] {
    const problems: string[] = [];
    devices.forEach((d, i) => {
      for (const p of this.gateway.provisioning.validate(toRequest(d))) problems.push(`devices[${i}].${p}`);
      if (this.gateway.store.devices.get(d.id)?.source === 'config') {
        problems.push(`devices[${i}].id: device "${d.id}" is declared in the config file`);
      }
    });
    return problems;
  }

  async provision(devices: DeviceSpec[]): Promise<CommandResult> {
    const results: Record<string, string> = {};
    for (const d of devices) results[d.id] = (await this.gateway.provisioning.upsert(toRequest(d), 'cloud')).action;
    return { devices: results };
  }

  async removeDevice(id: string): Promise<CommandResult> {
    await this.gateway.provisioning.remove(id, 'cloud');
    return { removed: id };
  }

  importKeys(jwks: PublicJwks, opts: { replace: boolean }): CommandResult {
    const keys = this.gateway.access.service.keys;
    // One transaction: a rotation never leaves the door with no keys, or half of each set.
    return this.gateway.store.transaction(() => {
      const before = keys.list().map((k) => k.kid);
      const { imported, skipped } = keys.importJwks(jwks);
      const removed = opts.replace ? before.filter((kid) => !imported.includes(kid)) : [];
      for (const kid of removed) keys.remove(kid);
      return { imported, removed, skipped: skipped.length };
    });
  }

  revoke(entries: RevocationEntry[]): CommandResult {
    const revocations = this.gateway.access.service.revocations;
    let added = 0;
    this.gateway.store.transaction(() => {
      for (const e of entries) added += revocations.revoke(e.kind, e.value, e.reason ?? 'cloud');
    });
    return { added, version: revocations.version() };
  }

  replaceRevocations(list: RevocationList): CommandResult {
    const revocations = this.gateway.access.service.revocations;
    const applied = revocations.replaceFromCloud(list);
    return applied ? { applied: true, version: revocations.version() } : { applied: false, reason: 'stale_version' };
  }

  async openWithPass(lock: string, pass: string): Promise<{ granted: boolean; reason: string }> {
    if (!this.gateway.hosts.has(lock)) throw new PortierError(ErrorCode.DeviceNotFound, `no lock "${lock}"`);
    const decision = await this.gateway.access.present({
      reader: 'cloud',
      lock,
      kind: 'pass',
      value: pass,
      at: Date.now(),
    });
    return { granted: decision.granted, reason: decision.reason };
  }

  /** A config document as the file would hold it: every problem by path, plus what the file owns. */
  checkConfig(bundle: Record<string, unknown>): string[] {
    try {
      const { devices } = parseConfigText(stringify(bundle), this.gateway.drivers, {}, 'bundle');
      return devices
        .filter((d) => this.gateway.store.devices.get(d.id)?.source === 'config')
        .map((d) => `devices: "${d.id}" is declared in the config file`);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  }

  /**
   * Make the run-time devices exactly the bundle's devices, then wait for them to come up; if any stays down, put
   * the previous set back and fail. Gateway settings (ids, brokers, paths) stay with the file on the gateway.
   */
  async setConfig(bundle: Record<string, unknown>): Promise<CommandResult> {
    const { devices } = parseConfigText(stringify(bundle), this.gateway.drivers, {}, 'bundle');
    const registry = this.gateway.store.devices;
    const previous = registry.list().filter((d) => d.source === 'runtime');
    const apply = async (set: DeviceRequest[]): Promise<void> => {
      const keep = new Set(set.map((d) => d.id));
      for (const d of registry.list())
        if (d.source === 'runtime' && !keep.has(d.id)) await this.gateway.provisioning.remove(d.id, 'cloud');
      for (const d of set) await this.gateway.provisioning.upsert(d, 'cloud');
    };
    await apply(
      devices.map((d) =>
        toRequest({
          id: d.id,
          driver: d.driver,
          enabled: d.enabled,
          ...(d.name ? { name: d.name } : {}),
          ...d.settings,
        }),
      ),
    );
    const down = await this.waitUp(devices.filter((d) => d.enabled).map((d) => d.id));
    if (down.length) {
      await apply(
        previous.map((p) => {
          const { name, enabled, ...settings } = p.config;
          const req: DeviceRequest = { id: p.id, driver: p.driver, settings, enabled: enabled !== false };
          if (typeof name === 'string') req.name = name;
          return req;
        }),
      );
      throw new PortierError(ErrorCode.SyncCommandRejected, `rolled back: ${down.join(', ')} did not come up`);
    }
    return { devices: devices.map((d) => d.id) };
  }

  /**
   * Wait until every device is up, or the time is over; then the ones reported down (or not running) fail. A
   * device that has said nothing yet (a bay sensor before its first uplink) is not held against the bundle.
   */
  private async waitUp(ids: string[]): Promise<string[]> {
    const deadline = Date.now() + HEALTH_WAIT_MS;
    while (Date.now() < deadline && ids.some((id) => this.gateway.hosts.get(id)?.isUp !== true)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return ids.filter((id) => !this.gateway.hosts.has(id) || this.gateway.hosts.get(id)?.isUp === false);
  }
}
