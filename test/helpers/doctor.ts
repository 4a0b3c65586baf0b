/** One line of `portier doctor --json`. */
export interface DoctorCheck {
  check: string;
  status: string;
  detail: string;
  fix?: string;
}

/** `portier doctor --json`'s output (one check per line), by check name. */
export function doctorChecks(stdout: string): Record<string, DoctorCheck> {
  const checks = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DoctorCheck);
  return Object.fromEntries(checks.map((c) => [c.check, c]));
}
