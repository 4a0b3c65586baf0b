import type { z } from 'zod';
import type { DriverDefinition } from './driver.js';
import { ErrorCode, PortierError } from './errors.js';

/** The drivers a gateway knows, by id. Refuses duplicate ids: two drivers answering to one name is a bug. */
export class DriverRegistry {
  private readonly byId = new Map<string, DriverDefinition>();

  constructor(defs: readonly DriverDefinition[] = []) {
    for (const d of defs) this.add(d);
  }

  add(def: DriverDefinition): void {
    if (this.byId.has(def.id))
      throw new PortierError(ErrorCode.DeviceDuplicate, `driver id "${def.id}" registered twice`);
    this.byId.set(def.id, def);
  }

  get(id: string): DriverDefinition | undefined {
    return this.byId.get(id);
  }

  require(id: string): DriverDefinition {
    const def = this.byId.get(id);
    if (!def) {
      throw new PortierError(ErrorCode.DeviceUnknownDriver, `unknown driver "${id}" (known: ${this.ids().join(', ')})`);
    }
    return def;
  }

  ids(): string[] {
    return [...this.byId.keys()].sort();
  }

  all(): DriverDefinition[] {
    return [...this.byId.values()];
  }
}

export type AnyDriver = DriverDefinition<z.ZodType>;
