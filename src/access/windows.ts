import { ErrorCode, PortierError } from '../core/errors.js';

/**
 * Weekly time windows of a pass (the private `win` claim, docs/passes.md): a list of `[days, start, end]` in the
 * gateway's local time zone, e.g. `[["mon-fri","07:00","19:00"],["sat","09:00","12:00"]]`. Days are `mon`..`sun`,
 * ranges (`mon-fri`, wrapping `fri-mon`), comma lists (`mon,wed,fri`) or `*`; times are `HH:MM`, the end may be
 * `24:00`; an end before the start means the window runs past midnight into the next day. Evaluating local wall time
 * (never a fixed UTC offset) is what makes daylight saving right: "07:00" is 07:00 on the door's clock all year.
 */
export interface WeeklyWindow {
  /** Bit i set = day i open, 0 = Monday .. 6 = Sunday. */
  days: number;
  /** Minutes after local midnight, 0-1439. */
  start: number;
  /** Minutes after local midnight, 1-1440; below `start` for a window that crosses midnight. */
  end: number;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const MAX_WINDOWS = 32;

/** Parse one days expression into a bit mask, or undefined when it is not one. */
function parseDays(spec: string): number | undefined {
  if (spec === '*') return 0x7f;
  let mask = 0;
  for (const part of spec.toLowerCase().split(',')) {
    const [a, b, ...rest] = part.trim().split('-');
    if (rest.length) return undefined;
    const from = DAY_NAMES.indexOf(a as (typeof DAY_NAMES)[number]);
    const to = b === undefined ? from : DAY_NAMES.indexOf(b as (typeof DAY_NAMES)[number]);
    if (from < 0 || to < 0) return undefined;
    for (let d = from; ; d = (d + 1) % 7) {
      mask |= 1 << d;
      if (d === to) break;
    }
  }
  return mask;
}

function parseTime(text: string, allow24: boolean): number | undefined {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!m) return undefined;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 1440 || (minutes === 1440 && !allow24)) return undefined;
  return minutes;
}

/** Parse a `win` claim; throws a PortierError naming the first bad entry. */
export function parseWindows(value: unknown): WeeklyWindow[] {
  const bad = (why: string) => new PortierError(ErrorCode.AccessMalformed, `win: ${why}`);
  if (!Array.isArray(value) || value.length === 0) throw bad('expected a non-empty list of [days, start, end]');
  if (value.length > MAX_WINDOWS) throw bad(`at most ${MAX_WINDOWS} windows`);
  return value.map((entry, i) => {
    if (!Array.isArray(entry) || entry.length !== 3 || !entry.every((x) => typeof x === 'string')) {
      throw bad(`entry ${i} is not [days, "HH:MM", "HH:MM"]`);
    }
    const [d, s, e] = entry as [string, string, string];
    const days = d.length <= 64 ? parseDays(d) : undefined;
    if (days === undefined) throw bad(`entry ${i}: bad days "${d.slice(0, 20)}"`);
    const start = parseTime(s, false);
    const end = parseTime(e, true);
    if (start === undefined || end === undefined) throw bad(`entry ${i}: times must be HH:MM (end up to 24:00)`);
    if (start === end) throw bad(`entry ${i}: empty window (use "00:00","24:00" for a whole day)`);
    return { days, start, end };
  });
}

/** Local weekday (0 = Monday) and minute of the day at `ms` in an IANA zone. */
export interface LocalTime {
  weekday: number;
  minute: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/**
 * Converts instants to local weekday and minute with Intl (the ICU zone data Node ships; no tz library needed).
 * One formatter per zone, built once: constructing Intl formatters is the slow part.
 *
 * The formatter is built at the first pass with time windows, not at start: the first Intl.DateTimeFormat of a
 * process loads ICU's calendar and locale data, about 10 MiB of RSS (docs/architecture.md, Memory), which a gateway
 * without windowed passes never needs. UTC (the default) needs no ICU at all. A zone name is still checked at
 * construction: against ICU's list of canonical zones, and by building the formatter for a name not on it (an alias
 * such as Etc/UTC, or an unknown zone, which is refused).
 */
export class ZoneClock {
  private fmt: Intl.DateTimeFormat | undefined;

  constructor(readonly timeZone: string) {
    if (timeZone !== 'UTC' && !Intl.supportedValuesOf('timeZone').includes(timeZone)) this.fmt = formatter(timeZone);
  }

  local(ms: number): LocalTime {
    if (this.timeZone === 'UTC') {
      const d = new Date(ms);
      return { weekday: (d.getUTCDay() + 6) % 7, minute: d.getUTCHours() * 60 + d.getUTCMinutes() };
    }
    this.fmt ??= formatter(this.timeZone);
    let weekday = 0;
    let hour = 0;
    let minute = 0;
    for (const part of this.fmt.formatToParts(ms)) {
      if (part.type === 'weekday') weekday = WEEKDAYS[part.value] ?? 0;
      else if (part.type === 'hour') hour = Number(part.value) % 24;
      else if (part.type === 'minute') minute = Number(part.value);
    }
    return { weekday, minute: hour * 60 + minute };
  }
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  } catch {
    throw new PortierError(ErrorCode.ConfigInvalid, `unknown time zone "${timeZone}" (expected an IANA name)`);
  }
}

/** True when the local time falls in any window. */
export function inWindows(windows: readonly WeeklyWindow[], t: LocalTime): boolean {
  const yesterday = (t.weekday + 6) % 7;
  return windows.some((w) => {
    if (w.start < w.end) return (w.days & (1 << t.weekday)) !== 0 && t.minute >= w.start && t.minute < w.end;
    // crosses midnight: the evening part today, or the morning part of a window that opened yesterday
    return (
      ((w.days & (1 << t.weekday)) !== 0 && t.minute >= w.start) ||
      ((w.days & (1 << yesterday)) !== 0 && t.minute < w.end)
    );
  });
}
