import type { Logger } from 'pino';
import type { DeviceRecord } from '../store/device-registry.js';
import type { OutboxQuery } from '../store/outbox-query.js';
import type { DeviceStates } from './device-state.js';
import type { MetricsCollector } from './metrics-collector.js';
import type { OperatedGateway } from './operated-gateway.js';
import type { PassChecker } from './pass-check.js';
import type { EventStream } from './sse.js';

/** What every route of the admin API works with; built once by startAdmin, never module state. */
export interface AdminContext {
  gateway: OperatedGateway;
  log: Logger;
  states: DeviceStates;
  outbox: OutboxQuery;
  passes: PassChecker;
  metrics: MetricsCollector;
  stream: EventStream;
  /** Portier's version from package.json. */
  version: string;
  /** ms, when the admin API started (process uptime is what the health report shows). */
  startedAt: number;
}

/** Setting names whose values are secrets: shown as `[redacted]` by the API (a password in a device's config). */
const SECRET_KEY = /(secret|password|passwd|token|api_?key|psk|credential)/i;

export function redactSettings(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'name' || k === 'enabled') continue;
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? '[redacted]' : v;
  }
  return out;
}

/** The settings the driver runs with: the stored ones with the schema's defaults filled in (as stored if invalid). */
function effectiveSettings(ctx: AdminContext, rec: DeviceRecord): Record<string, unknown> {
  const def = ctx.gateway.drivers.get(rec.driver);
  const { name: _n, enabled: _e, ...stored } = rec.config;
  const parsed = def?.config.safeParse(stored);
  return parsed?.success && typeof parsed.data === 'object' && parsed.data !== null
    ? (parsed.data as Record<string, unknown>)
    : stored;
}

/** A registry record as the API shows it, with its driver's facts, health and live state. */
export function deviceView(ctx: AdminContext, rec: DeviceRecord): Record<string, unknown> {
  const def = ctx.gateway.drivers.get(rec.driver);
  const host = ctx.gateway.hosts.get(rec.id);
  const live = ctx.states.get(rec.id);
  const view: Record<string, unknown> = {
    id: rec.id,
    driver: rec.driver,
    kind: def?.kind ?? 'unknown',
    enabled: rec.config.enabled !== false,
    source: rec.source,
    up: host?.isUp ?? null,
    running: host !== undefined,
    rejected: Object.fromEntries(host?.rejected ?? []),
    settings: redactSettings(effectiveSettings(ctx, rec)),
    state: live?.state ?? {},
    state_ts: live?.ts ?? null,
    commands: Object.keys(def?.commands ?? {}),
    created_at: rec.createdAt,
    updated_at: rec.updatedAt,
  };
  if (typeof rec.config.name === 'string') view.name = rec.config.name;
  return view;
}
