import { formatIssues } from '../config/format-issues.js';
import { deviceIdSchema } from '../config/schema.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { Gateway } from './gateway.js';

/** A device as an operator gives it: id, driver, optional name, and the driver's own settings. */
export interface DeviceRequest {
  id: string;
  driver: string;
  name?: string;
  enabled?: boolean;
  settings: Record<string, unknown>;
}

/** Who asked: recorded in the audit event (`cli`, `api:<token id>`, `cloud:<command id>`). */
export type Actor = string;

/** A request that failed validation, with one problem per field (`relay_pin: expected integer 0-27`). */
export class ProvisioningError extends PortierError {
  constructor(readonly problems: string[]) {
    super(ErrorCode.DeviceConfigInvalid, problems.join('; '), { problems });
  }
}

/**
 * Adding, changing and removing devices at run time (CLI, admin API, signed cloud commands). Every request is
 * validated by the driver's own schema before anything changes; every change is a durable, audited
 * `provisioning.change` event. Devices declared in the config file belong to the file and cannot be removed here.
 */
export class Provisioning {
  constructor(private readonly gateway: Gateway) {}

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
    const { store } = this.gateway;
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
    const { store } = this.gateway;
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
    this.gateway.store.events.recordNow({
      dev: this.gateway.id,
      type: 'provisioning.change',
      data: { action, device, driver, actor },
    });
  }
}
