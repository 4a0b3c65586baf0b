import { ErrorCode, PortierError } from '../core/errors.js';
import { CONFIG_VERSION } from './schema.js';

type RawConfig = Record<string, unknown>;

/** A step from `from` to `from + 1` on the raw parsed YAML, before validation. */
interface ConfigMigration {
  from: number;
  describe: string;
  up(raw: RawConfig): RawConfig;
}

/**
 * Every config migration, in order. Version 0 is a file written before versions existed: it had `mqtt` where
 * version 1 has `local_mqtt`.
 */
const MIGRATIONS: readonly ConfigMigration[] = [
  {
    from: 0,
    describe: 'rename mqtt to local_mqtt',
    up: ({ mqtt, ...rest }) => (mqtt === undefined ? rest : { ...rest, local_mqtt: mqtt }),
  },
];

/** Bring a raw config to the current version; returns the steps applied so the loader can report them. */
export function migrateConfig(raw: RawConfig): { raw: RawConfig; applied: string[] } {
  const version = raw.version === undefined ? 0 : raw.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    throw new PortierError(ErrorCode.ConfigInvalid, `version: expected a whole number, got ${JSON.stringify(version)}`);
  }
  if (version > CONFIG_VERSION) {
    throw new PortierError(
      ErrorCode.ConfigUnsupportedVersion,
      `version: ${version} is newer than this Portier understands (${CONFIG_VERSION}); upgrade Portier`,
    );
  }
  let current = raw;
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    if (m.from < version) continue;
    current = { ...m.up(current), version: m.from + 1 };
    applied.push(`v${m.from} -> v${m.from + 1}: ${m.describe}`);
  }
  return { raw: current, applied };
}
