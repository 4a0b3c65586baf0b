type RawConfig = Record<string, unknown>;

/**
 * The environment variables that override the file (DESIGN.md, Configuration), each with the path it sets.
 * One config then serves a bench, a test and a Pi.
 */
export const ENV_OVERRIDES: ReadonlyArray<{ name: string; path: [string, string]; replaces?: string }> = [
  { name: 'PORTIER_STATE_DIR', path: ['gateway', 'state_dir'] },
  { name: 'PORTIER_GATEWAY_ID', path: ['gateway', 'id'] },
  { name: 'PORTIER_LOCAL_MQTT_URL', path: ['local_mqtt', 'url'] },
  // One URL or a comma-separated list; it stands for the file's whole broker list, `urls` included.
  { name: 'PORTIER_CLOUD_MQTT_URL', path: ['cloud', 'url'], replaces: 'urls' },
  { name: 'PORTIER_ADMIN_LISTEN', path: ['admin', 'listen'] },
  { name: 'PORTIER_LOG_LEVEL', path: ['log', 'level'] },
  { name: 'PORTIER_GPIO_SIM_DIR', path: ['gpio', 'sim_dir'] },
];

/** Apply overrides to a raw (migrated, not yet validated) config, so the schema checks them like file values. */
export function applyEnv(raw: RawConfig, env: NodeJS.ProcessEnv): { raw: RawConfig; applied: string[] } {
  const out: RawConfig = { ...raw };
  const applied: string[] = [];
  for (const { name, path, replaces } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const [section, key] = path;
    const current = out[section];
    const obj = current && typeof current === 'object' ? { ...(current as RawConfig) } : {};
    obj[key] = value;
    if (replaces) delete obj[replaces];
    out[section] = obj;
    applied.push(name);
  }
  return { raw: out, applied };
}
