import { formatIssues } from '../config/format-issues.js';
import { deviceIdSchema } from '../config/schema.js';
import type { DriverRegistry } from '../core/driver-registry.js';
import { ErrorCode, PortierError, ProvisioningError } from '../core/errors.js';
import type { Actor, DeviceProvisioning, DeviceRequest } from '../core/ports.js';
import type { Store } from '../store/store.js';

/** What provisioning needs of the gateway: its drivers and store, and starting and stopping one device. */
export interface ProvisioningDeps {
  readonly gatewayId: string;
  readonly drivers: DriverRegistry;
  store(): Store;
  startDevice(id: string, driverId: string, stored: Record<string, unknown>): Promise<unknown>;
  stopDevice(id: string): Promise<void>;
}

/**
 * Adding, changing and removing devices at run time (CLI, admin API, signed cloud commands). Every request is
 * validated by the driver's own schema before anything changes; every change is a durable, audited
 * `provisioning.change` event. Devices declared in the config file belong to the file and cannot be removed here.
 */
export class Provisioning implements DeviceProvisioning {
  constructor(private readonly gateway: ProvisioningDeps) {}

  /** Problems with a request, by field; empty when it is good. */
  validate(req: DeviceRequest): string[] {
    const problems: string[] = [];
    const id = deviceIdSchema.safeParse(req.id);
    if (!id.success) problems.push(...formatIssues(id.error.issues, ['id']));
    if (req.id === 'bridge') problems.push('id: "bridge" is reserved for the gateway\'s own MQTT topics');
    const def = this.gateway.drivers.get(req.driver);
    if (!def) {
      problems.push(`driver: unknown driver "${req.driver}" (known: ${this.gateway.drivers.ids().join(', ')})`);
      return problems;
    }
    const parsed = def.config.safeParse(req.settings);
    if (!parsed.success) problems.push(...formatIssues(parsed.error.issues));
    return problems;
  }

  /** Add a device, or replace a runtime device of the same id; starts it and audits the change. */
  async upsert(req: DeviceRequest, actor: Actor): Promise<{ action: 'added' | 'changed' }> {
    const problems = this.validate(req);
    if (problems.length) throw new ProvisioningError(problems);
    const store = this.gateway.store();
    const existing = store.devices.get(req.id);
    if (existing?.source === 'config') {
      throw new ProvisioningError([`id: device "${req.id}" is declared in the config file; change it there`]);
    }
    const config: Record<string, unknown> = { ...req.settings, enabled: req.enabled ?? true };
    if (req.name !== undefined) config.name = req.name;
    await this.gateway.stopDevice(req.id);
    store.devices.upsert({ id: req.id, driver: req.driver, config, source: 'runtime' });
    const action = existing ? 'changed' : 'added';
    this.audit(action, req.id, req.driver, actor);
    if (req.enabled !== false) await this.gateway.startDevice(req.id, req.driver, config);
    return { action };
  }

  async remove(id: string, actor: Actor): Promise<void> {
    const store = this.gateway.store();
    const existing = store.devices.get(id);
    if (!existing) throw new PortierError(ErrorCode.DeviceNotFound, `no device "${id}"`);
    if (existing.source === 'config') {
      throw new ProvisioningError([`id: device "${id}" is declared in the config file; remove it there`]);
    }
    await this.gateway.stopDevice(id);
    store.devices.remove(id);
    this.audit('removed', id, existing.driver, actor);
  }

  private audit(action: string, device: string, driver: string, actor: Actor): void {
    this.gateway.store().events.recordNow({
      dev: this.gateway.gatewayId,
      type: 'provisioning.change',
      data: { action, device, driver, actor },
    });
  }
}
