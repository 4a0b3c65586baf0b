import { fstatSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { redactKeys } from './redact.js';

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

/** Key names (any case, at any depth) whose values never reach a log line. */
const LOG_SECRET_KEYS = new Set(['token', 'pass', 'pin', 'secret', 'password', 'authorization', 'sub']);
const isLogSecret = (key: string) => LOG_SECRET_KEYS.has(key.toLowerCase());
const MAY_HOLD_SECRET = /"(token|pass|pin|secret|password|authorization|sub)":/i;

/**
 * A serialized line with every secret key's value redacted at any depth. pino's redact paths reach one level below
 * the root and its formatters skip child bindings, so the finished line is checked; only a line that names such a
 * key is parsed again.
 */
export function redactLine(line: string): string {
  if (!MAY_HOLD_SECRET.test(line)) return line;
  try {
    return `${JSON.stringify(redactKeys(JSON.parse(line), isLogSecret))}\n`;
  } catch {
    return line;
  }
}

/**
 * sd-daemon(3) priority prefix for a pino level: fatal → `<2>` crit, error → `<3>` err, warn → `<4>` warning,
 * info → `<6>` info, debug and trace → `<7>` debug. journald reads it (SyslogLevelPrefix= defaults to yes).
 */
export function syslogPrefix(level: number): string {
  if (level >= 60) return '<2>';
  if (level >= 50) return '<3>';
  if (level >= 40) return '<4>';
  if (level >= 30) return '<6>';
  return '<7>';
}

/** Prefix a serialized pino line with its syslog priority (the level is the line's first field). */
export function withSyslogPrefix(line: string): string {
  const m = /"level":(\d+)/.exec(line);
  return m ? `${syslogPrefix(Number(m[1]))}${line}` : line;
}

/**
 * True when stdout is the journal: systemd sets `JOURNAL_STREAM` to the `device:inode` of the stream it connected,
 * and a program is to compare it with its own stdout (systemd.exec(5)), since a shell started from a service
 * inherits the variable while writing to a terminal.
 */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const want = env.JOURNAL_STREAM;
  if (!want) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return want === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

export interface LoggerOptions {
  level?: string;
  /** Human-readable output; defaults to true when stdout is a terminal. */
  pretty?: boolean;
  /** Where to write; defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: pino.DestinationStream;
  /**
   * Prefix each line with its syslog priority (`<4>` for warn, ...). Defaults to true when systemd connected
   * stdout to the journal (`stdoutIsJournal`), so `journalctl -p warning` works.
   */
  journal?: boolean;
}

/** The one root logger of a process; components take `logger.child({ component, device })`. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const journal = opts.journal ?? (!opts.destination && stdoutIsJournal());
  const base: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: { streamWrite: journal ? (line) => withSyslogPrefix(redactLine(line)) : redactLine },
  };
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
