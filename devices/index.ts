import type { DriverDefinition } from '../src/core/driver.js';
import { DriverRegistry } from '../src/core/driver-registry.js';

/** Every driver Portier ships, listed explicitly (no directory scanning). Append new drivers here. */
export const DRIVERS: readonly DriverDefinition[] = [];

export function builtinDrivers(): DriverRegistry {
  return new DriverRegistry(DRIVERS);
}
