import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths that must never reach a log line: passes, PINs, secrets, raw subjects (STYLE.md, house habits). */
export const REDACT_PATHS = [
  'token',
  'pass',
  'pin',
  'secret',
  'password',
  'authorization',
  'sub',
  '*.token',
  '*.pass',
  '*.pin',
  '*.secret',
  '*.password',
  '*.authorization',
  '*.sub',
  'req.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  /** Human-readable output; defaults to true when stdout is a terminal. */
  pretty?: boolean;
  /** Where to write; defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: pino.DestinationStream;
}

/** The one root logger of a process; components take `logger.child({ component, device })`. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (opts.destination) return pino(base, opts.destination);
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(base, pino.destination({ sync: true }));
}

/** A logger that drops everything, for unit tests and CLI one-shots. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
