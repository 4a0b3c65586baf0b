import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GpioBackend } from '../../core/links.js';
import { createOnoffBackend, type GpioClass } from './onoff-backend.js';
import { createSimBackend } from './sim-backend.js';
import { listGpioChips, SYSFS_GPIO_ROOT } from './sysfs.js';

export { SimGpioDevice } from './sim-device.js';
export { findHeaderChip, type GpioChip, listGpioChips, sysfsNumber } from './sysfs.js';

export interface GpioBackendOptions {
  /** 'auto': onoff when sysfs GPIO has a gpiochip, else sim. */
  backend: 'auto' | 'onoff' | 'sim';
  /** The sim backend's directory of line files; default <tmpdir>/portier-gpio */
  simDir?: string;
  /** default /sys/class/gpio */
  sysfsRoot?: string;
  /** ms, 10-1000, default 50: the sim backend's poll behind fs.watch */
  simPollMs?: number;
  /** For tests of the onoff backend: the Gpio class to use instead of loading onoff. */
  gpioClass?: GpioClass;
}

/** Default directory of the sim backend's line files when the config names none. */
export const DEFAULT_SIM_DIR = join(tmpdir(), 'portier-gpio');

/**
 * The GPIO backend the config asks for. 'auto' picks onoff on a machine whose sysfs has a gpiochip (a Pi) and the
 * file-based simulation elsewhere, and logs which, so a bench run never wonders why the relay did not click.
 */
export function createGpioBackend(opts: GpioBackendOptions, log: Logger): GpioBackend {
  const root = opts.sysfsRoot ?? SYSFS_GPIO_ROOT;
  let kind = opts.backend;
  if (kind === 'auto') {
    const chips = listGpioChips(root);
    kind = chips.length > 0 ? 'onoff' : 'sim';
    log.info({ backend: kind, sysfsRoot: root, chips: chips.length }, 'gpio backend chosen');
  }
  if (kind === 'onoff') {
    const o: Parameters<typeof createOnoffBackend>[0] = { sysfsRoot: root };
    if (opts.gpioClass) o.gpioClass = opts.gpioClass;
    return createOnoffBackend(o, log);
  }
  const dir = opts.simDir ?? DEFAULT_SIM_DIR;
  log.info({ dir }, 'gpio simulated with line files');
  const o: Parameters<typeof createSimBackend>[0] = { dir };
  if (opts.simPollMs !== undefined) o.pollMs = opts.simPollMs;
  return createSimBackend(o, log);
}
