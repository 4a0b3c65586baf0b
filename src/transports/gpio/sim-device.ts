import type { Logger } from 'pino';
import type { Bit } from '../../core/links.js';
import { silentLogger } from '../../core/logger.js';
import { edgesBetween, LineFileWatcher, type LineValue, nextValue, readLine, writeLine } from './sim-files.js';

/**
 * The hardware side of the simulated GPIO (see sim-files.ts), for firmware stubs and tests, usually in another
 * process than the gateway: it drives the gateway's inputs (`set`, `pulse`) and watches its outputs (`watch`,
 * `read`). Every toggle is counted in the file, so a gateway that is busy still sees each edge of a short pulse.
 */
export class SimGpioDevice {
  private readonly driven = new Map<number, LineValue>();
  private readonly watchers = new Map<number, Set<(value: Bit) => void>>();
  private watcher: LineFileWatcher | undefined;

  constructor(
    /** The same directory the gateway's sim backend uses (`gpio.sim_dir`). */
    readonly dir: string,
    private readonly log: Logger = silentLogger(),
  ) {}

  /** Drive input `line` to `bit` (a button pressed, a door contact opened). */
  set(line: number, bit: Bit): void {
    const current = this.driven.get(line) ?? readLine(this.dir, line);
    const next = nextValue(current, bit);
    this.driven.set(line, next);
    if (current && current.bit === next.bit && current.count === next.count) return;
    writeLine(this.dir, line, next);
  }

  /** Drive `line` to `level` for `ms` (ms, >= 0), then back: a button press, a Wiegand bit, a reed switch. */
  async pulse(line: number, ms: number, level: Bit = 1): Promise<void> {
    this.set(line, level);
    await new Promise((r) => setTimeout(r, ms));
    this.set(line, (1 - level) as Bit);
  }

  /** The current value of `line` as its file holds it (an output the gateway drives, or an input we drive). */
  read(line: number): Bit {
    return readLine(this.dir, line)?.bit ?? 0;
  }

  /**
   * Call `listener` with each new value of `line` (every edge, in order) as the gateway writes it. Returns a
   * function that stops watching.
   */
  watch(line: number, listener: (value: Bit) => void): () => void {
    this.watcher ??= new LineFileWatcher(this.dir, (l, value, prev) => this.changed(l, value, prev), this.log);
    let set = this.watchers.get(line);
    if (!set) {
      set = new Set();
      this.watchers.set(line, set);
      this.watcher.add(line);
    }
    set.add(listener);
    return () => {
      const current = this.watchers.get(line);
      if (!current?.delete(listener) || current.size > 0) return;
      this.watchers.delete(line);
      this.watcher?.remove(line);
    };
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.watchers.clear();
  }

  private changed(line: number, value: LineValue, prev: LineValue | undefined): void {
    const listeners = this.watchers.get(line);
    if (!listeners) return;
    for (const bit of edgesBetween(prev ?? { bit: 0 }, value)) {
      for (const l of [...listeners]) {
        try {
          l(bit);
        } catch (err) {
          this.log.error({ err, line }, 'sim gpio watcher threw');
        }
      }
    }
  }
}
