import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import type { GpioInput } from '../../src/core/links.js';
import { PinEntry } from './pin-entry.js';
import { type Bit, type CardRead, decodeFrame } from './wiegand-codec.js';
import { type AssembledFrame, WiegandFrameAssembler } from './wiegand-frames.js';

const pin = z.number().int().min(0, 'expected a BCM line 0-27').max(27, 'expected a BCM line 0-27');

export const wiegandConfig = z
  .object({
    /** BCM line of DATA0 (green wire): pulses low for a 0 bit. */
    d0_pin: pin,
    /** BCM line of DATA1 (white wire): pulses low for a 1 bit. */
    d1_pin: pin,
    /** The lock this reader stands at. */
    lock: z.string().min(1),
    /** Card frame lengths accepted: 26 (H10301), 34 (H10306), 37 (H10304). */
    formats: z
      .array(z.union([z.literal(26), z.literal(34), z.literal(37)]))
      .min(1)
      .default([26, 34, 37]),
    /** Accept keypad frames (4-bit and 8-bit keys): digits, * clears, # submits the PIN. */
    keypad: z.boolean().default(true),
    /**
     * How a card is named to the card list: `hex` the whole frame with parity (26 bits: 7 digits, e.g. 0CA01F6),
     * `facility_card` "101:251", `number` the bits between the parity bits in decimal.
     */
    card_format: z.enum(['hex', 'facility_card', 'number']).default('hex'),
    /** ms of silence that ends a frame, 2-2000 (25 on real wires; more on simulated GPIO) */
    frame_gap_ms: z.number().int().min(2).max(2000).default(25),
    /** ms without a key after which typed digits are forgotten, 1000-120000 */
    pin_timeout_ms: z.number().int().min(1000).max(120_000).default(10_000),
    /** digits of a PIN at most, 4-16 */
    pin_max_digits: z.number().int().min(4).max(16).default(8),
  })
  .strict()
  .refine((c) => c.d0_pin !== c.d1_pin, { message: 'd0_pin and d1_pin must be different lines', path: ['d1_pin'] });

/** The card number as the card list knows it (src/store/card-store.ts), in the configured form. */
export function cardValue(read: CardRead, form: 'hex' | 'facility_card' | 'number'): string {
  if (form === 'facility_card') return `${read.facility}:${read.card}`;
  if (form === 'number') return read.number;
  return read.hex;
}

/**
 * A Wiegand card reader and/or keypad on two GPIO lines. Each pulse on D0/D1 is a bit; a frame ends after
 * `frame_gap_ms` of silence and is checked (length, parity, key complement) before a card number or a PIN goes to
 * the access service as a `credential`. Bad frames are counted (`parity_error`, `bad_length`, `bad_key`,
 * `frame_too_long`); the reader keeps listening.
 */
export const wiegandReader = defineDriver({
  id: 'wiegand-reader',
  kind: 'reader',
  transport: 'gpio',
  description: 'Wiegand 26/34/37-bit card reader and 4/8-bit keypad on GPIO (D0/D1), feeding cards and PINs to access',
  config: wiegandConfig,
  events: ['device.health'],
  create(ctx) {
    const cfg = ctx.config;
    const frames = new WiegandFrameAssembler(cfg.frame_gap_ms);
    const entry = new PinEntry(cfg.pin_max_digits, cfg.pin_timeout_ms);
    const inputs: GpioInput[] = [];
    const unwatch: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    let running = false;

    const present = (kind: 'card' | 'pin', value: string): void => {
      ctx.bus.emit('credential', { reader: ctx.id, lock: cfg.lock, kind, value, at: Date.now() });
    };

    const onFrame = (frame: AssembledFrame): void => {
      if ('overflow' in frame) {
        ctx.reject('frame_too_long', { bits: frame.overflow });
        return;
      }
      const result = decodeFrame(frame.bits, { cards: cfg.formats, keys: cfg.keypad });
      if (!result.ok) {
        // The bits themselves stay out of the log: a card number is a credential.
        ctx.reject(result.reason, { bits: result.bits });
        return;
      }
      const read = result.value;
      if (read.kind === 'card') {
        present('card', cardValue(read, cfg.card_format));
        return;
      }
      const step = entry.key(read.key, performance.now());
      if (step.kind === 'submit') present('pin', step.code);
      else if (step.kind === 'rejected') ctx.reject(step.reason);
    };

    // The timer only says "look now"; the look waits for setImmediate, i.e. after the event loop has taken in any
    // pulses that arrived while this process was busy, so a stall never cuts a frame in two.
    const look = (): void => {
      timer = undefined;
      setImmediate(() => {
        if (!running) return;
        const done = frames.flush(performance.now());
        if (done) onFrame(done);
        else arm();
      });
    };

    const arm = (): void => {
      const due = frames.dueIn(performance.now());
      clearTimeout(timer);
      timer = due === undefined ? undefined : setTimeout(look, due);
    };

    const onPulse = (bit: Bit): void => {
      if (!running) return;
      frames.pulse(bit, performance.now());
      arm();
    };

    return {
      start() {
        const gpio = ctx.gpio();
        running = true;
        // Falling edges: each callback is one pulse, whatever level the line has by the time it is read (a real
        // pulse lasts ~50 µs, gone before a sysfs read).
        for (const [line, bit] of [
          [cfg.d0_pin, 0],
          [cfg.d1_pin, 1],
        ] as const) {
          const input = gpio.input(line, { edge: 'falling' });
          inputs.push(input);
          unwatch.push(input.watch(() => onPulse(bit)));
        }
        ctx.health(true);
      },
      stop() {
        running = false;
        clearTimeout(timer);
        for (const off of unwatch.splice(0)) off();
        for (const input of inputs.splice(0)) input.close();
        frames.reset();
        entry.clear();
      },
    };
  },
});
