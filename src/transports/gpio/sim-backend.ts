import type { Logger } from 'pino';
import { ErrorCode, PortierError } from '../../core/errors.js';
import type { Bit, Edge, GpioBackend, GpioInput, GpioOutput } from '../../core/links.js';
import {
  createLine,
  edgesBetween,
  LineFileWatcher,
  type LineValue,
  nextValue,
  readLine,
  writeLine,
} from './sim-files.js';

export interface SimBackendOptions {
  /** The directory of line files shared with SimGpioDevice (created if missing). */
  dir: string;
  /** ms, 10-1000, default 50: the poll behind fs.watch */
  pollMs?: number;
}

interface InputState {
  edge: Edge;
  activeLow: boolean;
  debounceMs: number;
  listeners: Set<(value: Bit) => void>;
  /** The last logical value delivered to listeners (or read at open). */
  delivered: Bit;
  debounce: NodeJS.Timeout | undefined;
}

/**
 * GPIO on files (see sim-files.ts): inputs are files a SimGpioDevice (or a person with `echo 1 >`) writes, outputs
 * are files this backend writes. Lets the daemon, its drivers and the demo run unchanged on a laptop or in CI.
 */
export function createSimBackend(opts: SimBackendOptions, log: Logger): GpioBackend {
  const inputs = new Map<number, InputState>();
  const outputs = new Map<number, LineValue>();
  const watcher = new LineFileWatcher(opts.dir, onChange, log, opts.pollMs);
  let closed = false;

  function logical(raw: Bit, activeLow: boolean): Bit {
    return (activeLow ? 1 - raw : raw) as Bit;
  }

  function wanted(edge: Edge, value: Bit): boolean {
    return edge === 'both' || (edge === 'rising' && value === 1) || (edge === 'falling' && value === 0);
  }

  function deliver(line: number, state: InputState, value: Bit): void {
    state.delivered = value;
    if (!wanted(state.edge, value)) return;
    for (const l of [...state.listeners]) {
      try {
        l(value);
      } catch (err) {
        log.error({ err, line }, 'gpio listener threw');
      }
    }
  }

  function onChange(line: number, value: LineValue, prev: LineValue | undefined): void {
    const state = inputs.get(line);
    if (!state || state.edge === 'none') return;
    if (state.debounceMs > 0) {
      // Like onoff's debounceTimeout: wait for the line to settle, then report where it settled if that differs.
      clearTimeout(state.debounce);
      state.debounce = setTimeout(() => {
        state.debounce = undefined;
        const now = readLine(opts.dir, line);
        if (!now || inputs.get(line) !== state) return;
        const v = logical(now.bit, state.activeLow);
        if (v !== state.delivered) deliver(line, state, v);
      }, state.debounceMs);
      return;
    }
    for (const raw of edgesBetween(prev ?? { bit: 0 }, value)) deliver(line, state, logical(raw, state.activeLow));
  }

  function checkLine(line: number): void {
    if (closed) throw new PortierError(ErrorCode.TransportClosed, 'GPIO backend closed');
    if (!Number.isInteger(line) || line < 0 || line > 1023) {
      throw new PortierError(ErrorCode.ConfigInvalid, `GPIO line ${line} is not a line number`, { line });
    }
    if (inputs.has(line) || outputs.has(line)) {
      throw new PortierError(ErrorCode.ConfigInvalid, `GPIO line ${line} is already in use`, { line });
    }
  }

  return {
    name: 'sim',
    input(line, o = {}): GpioInput {
      checkLine(line);
      const activeLow = o.activeLow ?? false;
      // A device not started yet reads as a released line, as an unconnected pull-down input would.
      createLine(opts.dir, line, { bit: 0, count: 0 });
      const current = watcher.add(line);
      const state: InputState = {
        edge: o.edge ?? 'both',
        activeLow,
        debounceMs: o.debounceMs ?? 0,
        listeners: new Set(),
        delivered: logical(current?.bit ?? 0, activeLow),
        debounce: undefined,
      };
      inputs.set(line, state);
      return {
        read: () => logical(readLine(opts.dir, line)?.bit ?? 0, activeLow),
        watch(listener) {
          state.listeners.add(listener);
          return () => {
            state.listeners.delete(listener);
          };
        },
        close() {
          clearTimeout(state.debounce);
          state.listeners.clear();
          if (inputs.get(line) === state) {
            inputs.delete(line);
            watcher.remove(line);
          }
        },
      };
    },
    output(line, o = {}): GpioOutput {
      checkLine(line);
      const activeLow = o.activeLow ?? false;
      const write = (value: Bit) => {
        if (outputs.get(line) === undefined) {
          throw new PortierError(ErrorCode.TransportClosed, `GPIO line ${line} is closed`, { line });
        }
        const raw = logical(value, activeLow);
        const next = nextValue(outputs.get(line), raw);
        outputs.set(line, next);
        writeLine(opts.dir, line, next);
      };
      // Continue the file's toggle count, so a watcher that outlived our restart sees the next change as one edge.
      const before = readLine(opts.dir, line);
      const first = nextValue(before, logical(o.initial ?? 0, activeLow));
      outputs.set(line, first);
      writeLine(opts.dir, line, first);
      return {
        write,
        read: () => logical((outputs.get(line) ?? first).bit, activeLow),
        close() {
          outputs.delete(line);
        },
      };
    },
    close() {
      closed = true;
      for (const state of inputs.values()) clearTimeout(state.debounce);
      inputs.clear();
      outputs.clear();
      watcher.close();
    },
  };
}
