import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isPortierError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createGpioBackend } from '../../../src/transports/gpio/index.js';
import type { GpioClass } from '../../../src/transports/gpio/onoff-backend.js';
import { findHeaderChip, sysfsNumber } from '../../../src/transports/gpio/sysfs.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * A temp dir laid out like /sys/class/gpio (the OS edge, which may be faked). Chip layouts as the kernel shows
 * them: Pi 4 on 6.1 (base 0), Pi 4 on 6.6+ (base 512), Pi 5 on 6.6+ (RP1 header chip at 571 besides the SoC's).
 */
function fakeSysfs(chips: Array<{ name: string; label?: string; base: number; ngpio: number }>): string {
  const root = tempDir('portier-sysfs-');
  writeFileSync(join(root, 'export'), '');
  writeFileSync(join(root, 'unexport'), '');
  for (const c of chips) {
    const dir = join(root, c.name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'base'), `${c.base}\n`);
    writeFileSync(join(dir, 'ngpio'), `${c.ngpio}\n`);
    if (c.label !== undefined) writeFileSync(join(dir, 'label'), `${c.label}\n`);
  }
  return root;
}

const PI4_OLD = [
  { name: 'gpiochip0', label: 'pinctrl-bcm2711', base: 0, ngpio: 58 },
  { name: 'gpiochip504', label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 },
];
const PI4_66 = [
  { name: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
  { name: 'gpiochip570', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
];
const PI5_66 = [
  { name: 'gpiochip512', label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
  { name: 'gpiochip544', label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4 },
  { name: 'gpiochip548', label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17 },
  { name: 'gpiochip565', label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6 },
  { name: 'gpiochip571', label: 'pinctrl-rp1', base: 571, ngpio: 54 },
];

describe('gpiochip base discovery', () => {
  it('maps BCM lines to sysfs numbers by the header chip base, whatever the kernel made it', () => {
    expect(sysfsNumber(findHeaderChip(fakeSysfs(PI4_OLD)), 17)).toBe(17);
    expect(sysfsNumber(findHeaderChip(fakeSysfs(PI4_66)), 17)).toBe(529);
    // On a Pi 5 the SoC's first chip also has >= 28 lines; the header is the RP1's.
    expect(sysfsNumber(findHeaderChip(fakeSysfs(PI5_66)), 17)).toBe(588);
  });

  it('falls back to the lowest-based chip with at least 28 lines when no label is known', () => {
    const root = fakeSysfs([
      { name: 'gpiochip600', base: 600, ngpio: 8 },
      { name: 'gpiochip700', label: 'some-soc', base: 700, ngpio: 32 },
      { name: 'gpiochip900', label: 'other-soc', base: 900, ngpio: 64 },
    ]);
    expect(findHeaderChip(root).base).toBe(700);
  });

  it('fails with a clear error when no chip qualifies, and refuses lines the chip does not have', () => {
    const none = fakeSysfs([{ name: 'gpiochip0', label: 'tiny', base: 0, ngpio: 8 }]);
    expect(() => findHeaderChip(none)).toThrow(/no GPIO chip with 28\+ lines .*gpiochip0:tiny/);
    const chip = findHeaderChip(fakeSysfs(PI4_66));
    let caught: unknown;
    try {
      sysfsNumber(chip, 58);
    } catch (err) {
      caught = err;
    }
    expect(isPortierError(caught, ErrorCode.ConfigInvalid)).toBe(true);
    expect(() => sysfsNumber(chip, -1)).toThrow(/lines 0-57/);
  });
});

/** Records what onoff would be asked to do; stands in for the sysfs files themselves (the OS edge). */
function recordingGpio() {
  const made: Array<{ n: number; direction: string; edge: string | undefined; options: unknown }> = [];
  const written: Array<[number, number]> = [];
  const watchers: Array<(err: Error | null, v: 0 | 1) => void> = [];
  class FakeGpio {
    constructor(
      readonly n: number,
      direction: string,
      edge?: string,
      options?: unknown,
    ) {
      made.push({ n, direction, edge, options });
    }
    readSync() {
      return 1;
    }
    writeSync(v: 0 | 1) {
      written.push([this.n, v]);
    }
    watch(cb: (err: Error | null, v: 0 | 1) => void) {
      watchers.push(cb);
    }
    unwatchAll() {}
    unexport() {}
  }
  return { gpioClass: FakeGpio as unknown as GpioClass, made, written, watchers };
}

describe('onoff backend line mapping', () => {
  it('opens BCM lines at base + line with the requested edge, debounce, polarity and glitch-free initial level', () => {
    const rec = recordingGpio();
    const gpio = createGpioBackend(
      { backend: 'auto', sysfsRoot: fakeSysfs(PI4_66), gpioClass: rec.gpioClass },
      silentLogger(),
    );
    expect(gpio.name).toBe('onoff');
    const input = gpio.input(4, { edge: 'falling', debounceMs: 20, activeLow: true });
    const relay = gpio.output(17, { initial: 1, activeLow: true });
    relay.write(0);
    expect(rec.made).toEqual([
      { n: 516, direction: 'in', edge: 'falling', options: { activeLow: true, debounceTimeout: 20 } },
      // Active low, logically on: the pin starts raw low, set together with the direction.
      { n: 529, direction: 'low', edge: undefined, options: { activeLow: true } },
    ]);
    expect(rec.written).toEqual([[529, 0]]);
    const seen: number[] = [];
    input.watch((v) => seen.push(v));
    rec.watchers[0]?.(null, 0);
    expect(seen).toEqual([0]);
    expect(() => gpio.output(4)).toThrow(/already in use/);
    input.close();
    gpio.output(4);
    gpio.close();
  });

  it("'auto' chooses the sim backend when sysfs has no gpiochip", () => {
    const gpio = createGpioBackend(
      { backend: 'auto', sysfsRoot: tempDir('portier-nosysfs-'), simDir: tempDir('portier-sim-') },
      silentLogger(),
    );
    expect(gpio.name).toBe('sim');
    gpio.close();
  });
});
