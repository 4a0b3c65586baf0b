import type { Logger } from 'pino';
import type { AccessController } from '../access/controller.js';
import type { GatewayConfig } from '../config/schema.js';
import type { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import type { DriverRegistry } from '../core/driver-registry.js';
import type { MqttLink } from '../core/links.js';
import type { Metrics } from '../core/metrics.js';
import type { DeviceProvisioning, RunningDevices } from '../core/ports.js';
import type { Store } from '../store/store.js';

/**
 * The running gateway as the operator surface (admin API, Home Assistant discovery, retention) sees it: the port
 * src/app/gateway.ts implements, so that nothing here imports the composition root.
 */
export interface OperatedGateway {
  readonly id: string;
  readonly config: GatewayConfig;
  readonly bus: EventBus<GatewaySignals>;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly drivers: DriverRegistry;
  readonly hosts: RunningDevices;
  readonly provisioning: DeviceProvisioning;
  readonly access: AccessController;
  /** The process's root logger, for services that make their own children. */
  readonly rootLog: Logger;
  /** Resolves when work that reads the whole backlog may begin (after READY in the daemon). */
  readonly background: Promise<void>;
  healthy(): { healthy: boolean; reason?: string };
  /** The shared local MQTT link. */
  mqtt(): MqttLink;
}
