import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { DriverRegistry } from '../core/driver-registry.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import { applyEnv } from './env.js';
import { formatIssues } from './format-issues.js';
import { interpolateEnv } from './interpolate.js';
import { migrateConfig } from './migrations.js';
import { configSchema, type DeviceEntry, deviceEntryBase, type GatewayConfig } from './schema.js';

export interface LoadedConfig {
  config: GatewayConfig;
  devices: DeviceEntry[];
  /** What happened on the way: migrations applied, environment overrides used. */
  notes: string[];
}

/** A config that failed validation: every problem, one line each, by path. */
export class ConfigError extends PortierError {
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    super(ErrorCode.ConfigInvalid, `${source}: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`, {
      problems,
    });
  }
}

export function loadConfigFile(
  path: string,
  drivers: DriverRegistry,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PortierError(ErrorCode.ConfigNotFound, `cannot read config ${path}: ${(err as Error).message}`);
  }
  const loaded = parseConfigText(text, drivers, env, path);
  // A relative state dir is relative to the config file, so a clone works from any working directory.
  const dir = loaded.config.gateway.state_dir;
  if (!isAbsolute(dir) && env.PORTIER_STATE_DIR === undefined) {
    loaded.config.gateway.state_dir = resolve(dirname(path), dir);
  }
  return loaded;
}

/** Parse, migrate, override and validate a config; throws ConfigError listing every problem. */
export function parseConfigText(
  text: string,
  drivers: DriverRegistry,
  env: NodeJS.ProcessEnv = {},
  source = 'config',
): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => `YAML ${e.linePos?.[0] ? `line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}`),
      source,
    );
  }
  const parsed: unknown = doc.toJS();
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(['(root): expected a mapping with version, gateway and devices'], source);
  }
  const interpolationProblems: string[] = [];
  const interpolated = interpolateEnv(parsed, env, '', interpolationProblems) as Record<string, unknown>;
  if (interpolationProblems.length) throw new ConfigError(interpolationProblems, source);
  const migrated = migrateConfig(interpolated);
  const overridden = applyEnv(migrated.raw, env);
  const result = configSchema.safeParse(overridden.raw);
  const problems = result.success ? [] : formatIssues(result.error.issues);
  const devices: DeviceEntry[] = [];
  const rawDevices = Array.isArray(overridden.raw.devices) ? overridden.raw.devices : [];
  const seen = new Set<string>();
  rawDevices.forEach((entry: unknown, i: number) => {
    const base = deviceEntryBase.loose().safeParse(entry);
    if (!base.success) return; // already reported by the top-level schema
    const { id, driver, name, enabled, ...settings } = base.data;
    if (seen.has(id)) problems.push(`devices[${i}].id: duplicate device id "${id}"`);
    seen.add(id);
    const def = drivers.get(driver);
    if (!def) {
      problems.push(`devices[${i}].driver: unknown driver "${driver}" (known: ${drivers.ids().join(', ')})`);
      return;
    }
    const checked = def.config.safeParse(settings);
    if (!checked.success) {
      problems.push(...formatIssues(checked.error.issues, ['devices', i]));
      return;
    }
    const dev: DeviceEntry = { id, driver, enabled, settings: checked.data as Record<string, unknown> };
    if (name !== undefined) dev.name = name;
    devices.push(dev);
  });
  if (!result.success || problems.length) throw new ConfigError(problems, source);
  return {
    config: result.data,
    devices,
    notes: [...migrated.applied.map((m) => `migrated ${m}`), ...overridden.applied.map((n) => `override from ${n}`)],
  };
}
