import { type FSWatcher, mkdirSync, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Bit } from '../../core/links.js';

/**
 * The simulated GPIO wire: a directory with one file per line, `gpio<N>`, holding "0" or "1". The writer appends a
 * toggle count ("1 7\n"); a reader that finds the count moved by more than one knows it missed fast toggles (a
 * short pulse while it was busy) and replays them, so edges arrive in order however loaded the machine is. A file
 * written by hand ("1") works too, by plain value comparison. Writes are atomic (temp file + rename), so a reader
 * never sees half a value.
 */
export interface LineValue {
  bit: Bit;
  /** Toggles since the writer began; absent in hand-written files. */
  count?: number;
}

/** Replaying more toggles than this at once means a writer restarted or a file was edited: compare instead. */
const MAX_REPLAY = 64;

export function linePath(dir: string, line: number): string {
  return join(dir, `gpio${line}`);
}

/** The line number a file name stands for, or undefined for other files (temp files, strays). */
export function lineOfFile(name: string): number | undefined {
  const m = /^gpio(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function parseLine(text: string): LineValue | undefined {
  const m = /^\s*([01])(?:\s+(\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  const value: LineValue = { bit: m[1] === '1' ? 1 : 0 };
  if (m[2] !== undefined) value.count = Number(m[2]);
  return value;
}

export function formatLine(value: LineValue): string {
  return value.count === undefined ? `${value.bit}\n` : `${value.bit} ${value.count}\n`;
}

/** The line's value, or undefined when the file is missing or does not hold a value. */
export function readLine(dir: string, line: number): LineValue | undefined {
  try {
    return parseLine(readFileSync(linePath(dir, line), 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeLine(dir: string, line: number, value: LineValue): void {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.gpio${line}.${process.pid}.tmp`);
  writeFileSync(tmp, formatLine(value));
  renameSync(tmp, linePath(dir, line));
}

/** Create the line file with `value` unless it exists (a device that started first keeps what it wrote). */
export function createLine(dir: string, line: number, value: LineValue): void {
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(linePath(dir, line), formatLine(value), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** The next value a writer stores when driving `bit`: the count moves only on a real change. */
export function nextValue(current: LineValue | undefined, bit: Bit): LineValue {
  const count = current?.count ?? 0;
  if (current && current.bit === bit) return { bit, count };
  return { bit, count: current ? count + 1 : count };
}

/**
 * The values a reader should deliver going from `prev` to `next`, in order: one per toggle the counts show, or
 * (without counts) the new value if it differs.
 */
export function edgesBetween(prev: LineValue, next: LineValue): Bit[] {
  if (prev.count !== undefined && next.count !== undefined && next.count >= prev.count) {
    const toggles = next.count - prev.count;
    const consistent = (toggles % 2 === 1) === (prev.bit !== next.bit);
    if (consistent && toggles <= MAX_REPLAY) {
      const out: Bit[] = [];
      for (let i = toggles - 1; i >= 0; i--) out.push((i % 2 === 0 ? next.bit : 1 - next.bit) as Bit);
      return out;
    }
  }
  return prev.bit === next.bit ? [] : [next.bit];
}

/**
 * Follows line files in one directory and calls `onChange(line, value)` for every value it reads that differs
 * from the last one (bit or count). inotify (fs.watch) gives low latency; a short poll covers what it misses
 * (some filesystems, a watcher that failed, events coalesced under load).
 */
export class LineFileWatcher {
  private readonly last = new Map<number, LineValue | undefined>();
  private watcher: FSWatcher | undefined;
  private readonly poller: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly onChange: (line: number, value: LineValue, prev: LineValue | undefined) => void,
    private readonly log: Logger,
    /** ms, 10-1000, default 50 */
    pollMs = 50,
  ) {
    mkdirSync(dir, { recursive: true });
    try {
      this.watcher = watch(dir, (_event, name) => {
        const line = name ? lineOfFile(String(name)) : undefined;
        if (line !== undefined && this.last.has(line)) this.check(line);
      });
      this.watcher.on('error', (err) => {
        this.log.warn({ err: err.message, dir }, 'fs.watch failed, polling only');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.log.warn({ err: String(err), dir }, 'fs.watch unavailable, polling only');
    }
    this.poller = setInterval(() => {
      for (const line of this.last.keys()) this.check(line);
    }, pollMs);
    // The poll alone must not keep a process alive; the owner's other handles decide that.
    this.poller.unref();
  }

  /** Start following `line`; returns its current value (undefined if absent). */
  add(line: number): LineValue | undefined {
    const value = readLine(this.dir, line);
    this.last.set(line, value);
    return value;
  }

  remove(line: number): void {
    this.last.delete(line);
  }

  close(): void {
    clearInterval(this.poller);
    this.watcher?.close();
    this.watcher = undefined;
    this.last.clear();
  }

  private check(line: number): void {
    const value = readLine(this.dir, line);
    if (!value) return;
    const prev = this.last.get(line);
    if (prev && prev.bit === value.bit && prev.count === value.count) return;
    this.last.set(line, value);
    this.onChange(line, value, prev);
  }
}
