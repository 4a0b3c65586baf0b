/**
 * Replace `${NAME}` and `${NAME:-default}` in every string of a parsed config with environment values, so one file
 * can name paths that differ between a bench, a test and a Pi. An unset variable without a default is a problem
 * reported by path, never an empty string.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path = '', problems: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push(`${path || '(root)'}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, `${path}[${i}]`, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, path ? `${path}.${k}` : k, problems)]),
    );
  }
  return value;
}
