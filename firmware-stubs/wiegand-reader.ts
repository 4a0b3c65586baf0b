import { type Bit, type CardBits, encodeCard, encodeKey, type Key } from '../devices/readers/wiegand-codec.js';
import { SimGpioDevice } from '../src/transports/gpio/sim.js';

export interface WiegandReaderOptions {
  /** The simulated GPIO directory the gateway's sim backend uses. */
  dir: string;
  d0Line: number;
  d1Line: number;
  /**
   * ms between bits, default 15. A real reader sends a bit every ~2 ms; on simulated GPIO each line is its own
   * file, so the order of pulses on D0 against D1 survives only if the gateway reads each pulse before the next
   * one (the toggle counts keep the pulses of one line, not their interleaving with the other line).
   */
  bitIntervalMs?: number;
  /** ms of silence after each frame, default 300; must exceed the reader's `frame_gap_ms`. */
  framePauseMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A Wiegand card reader with keypad, from the wire side: DATA0 and DATA1 idle high and pulse low, one pulse per
 * bit. Each pulse is a toggle down and up written at once: the sim's toggle counts carry both edges however short.
 * Frames are sent one after another, never interleaved, whatever the caller does.
 */
export class WiegandReaderStub {
  private readonly gpio: SimGpioDevice;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private stopped = false;

  constructor(private readonly opts: WiegandReaderOptions) {
    this.gpio = new SimGpioDevice(opts.dir);
  }

  /** Frames queued or being sent. */
  get busy(): boolean {
    return this.pending > 0;
  }

  async start(): Promise<void> {
    this.gpio.set(this.opts.d0Line, 1);
    this.gpio.set(this.opts.d1Line, 1);
  }

  /** Send one frame of raw bits (a card, a key, or noise for tests). Resolves once the frame and its pause are over. */
  send(bits: readonly Bit[]): Promise<void> {
    this.pending++;
    const run = async (): Promise<void> => {
      try {
        for (const bit of bits) {
          if (this.stopped) return;
          const line = bit === 1 ? this.opts.d1Line : this.opts.d0Line;
          this.gpio.set(line, 0);
          this.gpio.set(line, 1);
          await sleep(this.opts.bitIntervalMs ?? 15);
        }
        await sleep(this.opts.framePauseMs ?? 300);
      } finally {
        this.pending--;
      }
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  /** Present a card: one frame in the given format. */
  card(bits: CardBits, facility: number, card: number): Promise<void> {
    return this.send(encodeCard(bits, facility, card));
  }

  /** Type keys ("123456#"), one frame per key, 4-bit or 8-bit as the keypad is set. */
  async keys(text: string, mode: 4 | 8 = 8): Promise<void> {
    for (const k of text) await this.send(encodeKey(k as Key, mode));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue.catch(() => undefined);
    this.gpio.close();
  }
}
