import { SimGpioDevice } from '../src/transports/gpio/sim.js';

export interface LoopDetectorOptions {
  /** The simulated GPIO directory the gateway's sim backend uses. */
  dir: string;
  line: number;
  /** Level of the presence output while a vehicle is over the loop. */
  occupiedLevel?: 0 | 1;
}

/**
 * An induction-loop detector card's presence relay on a simulated GPIO line. A car arriving over the loop's edge
 * makes the output chatter a few times before it settles, as a real detector does when a vehicle straddles it.
 */
export class LoopDetectorStub {
  private readonly gpio: SimGpioDevice;

  constructor(private readonly opts: LoopDetectorOptions) {
    this.gpio = new SimGpioDevice(opts.dir);
  }

  private level(present: boolean): 0 | 1 {
    const on = this.opts.occupiedLevel ?? 1;
    return present ? on : on === 1 ? 0 : 1;
  }

  async start(): Promise<void> {
    this.gpio.set(this.opts.line, this.level(false));
  }

  /** Settle at `present`. */
  set(present: boolean): void {
    this.gpio.set(this.opts.line, this.level(present));
  }

  /** Chatter `times` times (ms apart), then settle at `present`. */
  async chatter(present: boolean, times = 3, ms = 20): Promise<void> {
    for (let i = 0; i < times; i++) {
      this.set(present);
      await new Promise((r) => setTimeout(r, ms));
      this.set(!present);
      await new Promise((r) => setTimeout(r, ms));
    }
    this.set(present);
  }

  async stop(): Promise<void> {
    this.gpio.close();
  }
}
