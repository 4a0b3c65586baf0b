import { createRequire } from 'node:module';
import type { Gpio as OnoffGpio } from 'onoff';
import type { Logger } from 'pino';
import { ErrorCode, PortierError, reasonOf } from '../../core/errors.js';
import type { Bit, GpioBackend, GpioInput, GpioOutput } from '../../core/links.js';
import { findHeaderChip, SYSFS_GPIO_ROOT, sysfsNumber } from './sysfs.js';

/** The constructor of onoff's Gpio class (injectable so the line mapping can be tested without a Pi). */
export type GpioClass = typeof OnoffGpio;

export interface OnoffBackendOptions {
  /** default /sys/class/gpio; where the gpiochip base is read (onoff itself always uses /sys/class/gpio) */
  sysfsRoot?: string;
  /** For tests: the Gpio class to use instead of loading onoff. */
  gpioClass?: GpioClass;
}

/**
 * Loaded on first use, synchronously: input()/output() are synchronous, and a machine without GPIO (a laptop, CI)
 * never loads onoff or its native epoll addon.
 */
function loadOnoff(): GpioClass {
  try {
    const require = createRequire(import.meta.url);
    return (require('onoff') as { Gpio: GpioClass }).Gpio;
  } catch (err) {
    throw new PortierError(ErrorCode.TransportOpenFailed, `cannot load onoff: ${reasonOf(err)}`, {}, { cause: err });
  }
}

/**
 * Real GPIO through the kernel's sysfs interface (onoff). Callers give BCM line numbers; the backend adds the base
 * of the header's gpiochip, which is 0 before kernel 6.6 and 512 (on a Pi 4) since: read from sysfs, never assumed.
 */
export function createOnoffBackend(opts: OnoffBackendOptions, log: Logger): GpioBackend {
  const chip = findHeaderChip(opts.sysfsRoot ?? SYSFS_GPIO_ROOT);
  log.info({ chip: chip.name, label: chip.label, base: chip.base, ngpio: chip.ngpio }, 'gpio chip');
  let Gpio = opts.gpioClass;
  const open = new Set<OnoffGpio>();
  const used = new Set<number>();
  let closed = false;

  function claim(line: number): number {
    if (closed) throw new PortierError(ErrorCode.TransportClosed, 'GPIO backend closed');
    const n = sysfsNumber(chip, line);
    if (used.has(line))
      throw new PortierError(ErrorCode.ConfigInvalid, `GPIO line ${line} is already in use`, { line });
    used.add(line);
    return n;
  }

  function make(line: number, n: number, build: (G: GpioClass) => OnoffGpio): OnoffGpio {
    Gpio ??= loadOnoff();
    try {
      const gpio = build(Gpio);
      open.add(gpio);
      return gpio;
    } catch (err) {
      used.delete(line);
      throw new PortierError(ErrorCode.TransportOpenFailed, `GPIO line ${line} (sysfs ${n}): ${reasonOf(err)}`, {
        line,
      });
    }
  }

  function release(line: number, gpio: OnoffGpio): void {
    if (!open.delete(gpio)) return;
    used.delete(line);
    try {
      gpio.unwatchAll();
      gpio.unexport();
    } catch (err) {
      log.warn({ err: reasonOf(err), line }, 'gpio unexport failed');
    }
  }

  return {
    name: 'onoff',
    input(line, o = {}): GpioInput {
      const n = claim(line);
      const edge = o.edge ?? 'both';
      const options: { activeLow: boolean; debounceTimeout?: number } = { activeLow: o.activeLow ?? false };
      if (o.debounceMs) options.debounceTimeout = o.debounceMs;
      const gpio = make(line, n, (G) => new G(n, 'in', edge, options));
      const listeners = new Set<(value: Bit) => void>();
      if (edge !== 'none') {
        gpio.watch((err, value) => {
          if (err) {
            log.warn({ err: reasonOf(err), line }, 'gpio watch error');
            return;
          }
          for (const l of [...listeners]) {
            try {
              l(value);
            } catch (e) {
              log.error({ err: e, line }, 'gpio listener threw');
            }
          }
        });
      }
      return {
        read: () => gpio.readSync(),
        watch(listener) {
          listeners.add(listener);
          return () => {
            listeners.delete(listener);
          };
        },
        close: () => release(line, gpio),
      };
    },
    output(line, o = {}): GpioOutput {
      const n = claim(line);
      const activeLow = o.activeLow ?? false;
      // 'high'/'low' set direction and level in one write, so a relay never glitches; sysfs applies them raw.
      const raw = activeLow ? 1 - (o.initial ?? 0) : (o.initial ?? 0);
      const gpio = make(line, n, (G) => new G(n, raw ? 'high' : 'low', undefined, { activeLow }));
      return {
        write: (value) => gpio.writeSync(value),
        read: () => gpio.readSync(),
        close: () => release(line, gpio),
      };
    },
    close() {
      closed = true;
      for (const gpio of [...open]) {
        try {
          gpio.unwatchAll();
          gpio.unexport();
        } catch (err) {
          log.warn({ err: reasonOf(err) }, 'gpio unexport failed');
        }
      }
      open.clear();
      used.clear();
    },
  };
}
