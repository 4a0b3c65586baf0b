import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, PortierError } from '../../core/errors.js';

/** Where the kernel's GPIO sysfs lives; tests pass a temp dir laid out the same way. */
export const SYSFS_GPIO_ROOT = '/sys/class/gpio';

/** One `gpiochipN` directory of the sysfs GPIO interface. */
export interface GpioChip {
  /** e.g. "gpiochip512" */
  name: string;
  /** e.g. "pinctrl-bcm2711" */
  label: string;
  /** The sysfs number of the chip's line 0: 0 on kernels before 6.6, 512 (or another value) since. */
  base: number;
  /** How many lines the chip has (54 on a BCM2835/2711, 54 on the Pi 5's RP1). */
  ngpio: number;
}

/**
 * The labels of the chip that drives a Raspberry Pi's 40-pin header, most specific first: the Pi 5's header hangs
 * off the RP1 south bridge (its SoC also has a bcm2712 pinctrl, which is not the header); Pi 4 and 400 use the
 * BCM2711; Pi 1-3 and Zero the BCM2835.
 */
const PI_HEADER_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

/** The header has 28 lines (BCM 0-27); a chip with fewer cannot be it. */
const HEADER_LINES = 28;

/** Every gpiochip under `root`, in base order; unreadable entries are skipped. */
export function listGpioChips(root = SYSFS_GPIO_ROOT): GpioChip[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    return [];
  }
  const chips: GpioChip[] = [];
  for (const name of names) {
    try {
      const dir = join(root, name);
      const base = Number.parseInt(readFileSync(join(dir, 'base'), 'utf8'), 10);
      const ngpio = Number.parseInt(readFileSync(join(dir, 'ngpio'), 'utf8'), 10);
      let label = '';
      try {
        label = readFileSync(join(dir, 'label'), 'utf8').trim();
      } catch {
        // Some chips have no label file; they can still qualify by size.
      }
      if (Number.isInteger(base) && base >= 0 && Number.isInteger(ngpio) && ngpio > 0) {
        chips.push({ name, label, base, ngpio });
      }
    } catch {
      // A chip without base/ngpio is not one we can address.
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * The chip whose lines are the Pi header's BCM numbers: the first by known pinctrl label, else the lowest-based
 * chip with at least 28 lines. The base is read, never assumed: kernel 6.6 moved it from 0 to 512, and it may
 * move again.
 */
export function findHeaderChip(root = SYSFS_GPIO_ROOT): GpioChip {
  const chips = listGpioChips(root);
  for (const label of PI_HEADER_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  const big = chips.find((c) => c.ngpio >= HEADER_LINES);
  if (big) return big;
  throw new PortierError(
    ErrorCode.TransportOpenFailed,
    `no GPIO chip with ${HEADER_LINES}+ lines under ${root} (found ${chips.map((c) => `${c.name}:${c.label || '?'}`).join(', ') || 'none'})`,
    { root },
  );
}

/** The sysfs number for BCM line `line` on `chip`; a line the chip does not have is a ConfigInvalid error. */
export function sysfsNumber(chip: GpioChip, line: number): number {
  if (!Number.isInteger(line) || line < 0 || line >= chip.ngpio) {
    throw new PortierError(
      ErrorCode.ConfigInvalid,
      `GPIO line ${line} is not on ${chip.name} (${chip.label || 'no label'}, lines 0-${chip.ngpio - 1})`,
      { line, chip: chip.name },
    );
  }
  return chip.base + line;
}
