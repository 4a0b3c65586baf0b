import type { DriverDefinition } from './driver.js';

/**
 * The narrow ports through which services reach what the composition root (src/app/) assembled, instead of the
 * whole gateway: the devices that run now, and provisioning. Interfaces only; src/app/ implements them.
 */

/** One running device as a service sees it (src/app/device-host.ts implements it). */
export interface RunningDevice {
  readonly id: string;
  readonly def: DriverDefinition;
  /** undefined until the device has reported either way */
  readonly isUp: boolean | undefined;
  /** Inputs rejected since start, by reason. */
  readonly rejected: ReadonlyMap<string, number>;
  /** Validate the arguments against the driver's command schema, then run it. */
  command(name: string, args: unknown): Promise<unknown>;
}

/** The devices running now, by id. */
export type RunningDevices = ReadonlyMap<string, RunningDevice>;

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

/** Adding, changing and removing devices at run time, validated and audited (src/app/provisioning.ts). */
export interface DeviceProvisioning {
  /** Problems with a request, by field; empty when it is good. */
  validate(req: DeviceRequest): string[];
  upsert(req: DeviceRequest, actor: Actor): Promise<{ action: 'added' | 'changed' }>;
  remove(id: string, actor: Actor): Promise<void>;
}
