import { z } from 'zod';

/**
 * A TCP/UDP port, 1-65535. A string of digits is taken too, so `${PORT_VARIABLE:-8090}` works in the config file
 * (interpolation yields text).
 */
export function portSetting(defaultPort: number) {
  return z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\d{1,5}$/, 'expected a port number')
        .transform(Number),
    ])
    .pipe(z.number().int().min(1, 'expected a port 1-65535').max(65_535, 'expected a port 1-65535'))
    .default(defaultPort);
}
