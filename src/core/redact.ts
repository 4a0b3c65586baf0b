/**
 * Setting names whose values are secrets: a password, a station's PASSKEY, a LoRaWAN AppKey, a pre-shared key. The
 * admin API and the local broker's bridge API show them as `[redacted]`, at any depth.
 */
const SECRET_KEY = /(secret|password|passwd|pass_?key|token|api_?key|app_?key|nwk_?s?key|private_?key|psk|credential)/i;

export const REDACTED = '[redacted]';

/** A copy of `value` with every secret-looking key's value (if not empty) replaced by `[redacted]`, at any depth. */
export function redactSecrets(value: unknown): unknown {
  return redactKeys(value, (k) => SECRET_KEY.test(k));
}

/**
 * A copy of `value` with the value of every key that `isSecret` names (if not empty) replaced by `[redacted]`, at
 * any depth of plain objects and arrays. Other objects (errors, buffers, dates) are kept as they are.
 */
export function redactKeys(value: unknown, isSecret: (key: string) => boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => redactKeys(v, isSecret));
  if (typeof value !== 'object' || value === null) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecret(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactKeys(v, isSecret);
  }
  return out;
}

/** A device's settings as the operator surfaces show them: secrets redacted, `name` and `enabled` left out. */
export function redactSettings(config: Record<string, unknown>): Record<string, unknown> {
  const { name: _name, enabled: _enabled, ...settings } = config;
  return redactSecrets(settings) as Record<string, unknown>;
}
