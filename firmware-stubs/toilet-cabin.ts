import { SimGpioDevice } from '../src/transports/gpio/sim.js';

export interface ToiletCabinOptions {
  /** The simulated GPIO directory the gateway's sim backend uses. */
  dir: string;
  relayLine: number;
  contactLine: number;
  boltLine: number;
  eurokeyLine?: number;
  /** Levels as the toilet's config has them (defaults: contact 0 when closed, bolt 0 when thrown, key 0 when turned). */
  closedLevel?: 0 | 1;
  boltLevel?: 0 | 1;
  eurokeyLevel?: 0 | 1;
  /** A visitor walks in when the strike opens, bolts the door, stays this long (ms), and leaves; 0 = nobody */
  visitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const other = (b: 0 | 1): 0 | 1 => (b === 0 ? 1 : 0);

/**
 * A public toilet cabin on simulated GPIO: the door's reed contact, the contact on the inside bolt, a Euro-key
 * switch, and the strike relay it watches. With `visitMs`, a visitor comes in whenever the strike opens.
 */
export class ToiletCabinStub {
  private readonly gpio: SimGpioDevice;
  private unwatch: (() => void) | undefined;
  private visiting = false;
  private stopped = false;
  /** Visits completed (in, bolted, out). */
  visits = 0;

  constructor(private readonly o: ToiletCabinOptions) {
    this.gpio = new SimGpioDevice(o.dir);
  }

  async start(): Promise<void> {
    this.closeDoor();
    this.unbolt();
    if (this.o.eurokeyLine !== undefined) this.gpio.set(this.o.eurokeyLine, other(this.o.eurokeyLevel ?? 0));
    this.unwatch = this.gpio.watch(this.o.relayLine, (level) => {
      if (level === 1 && (this.o.visitMs ?? 0) > 0 && !this.visiting) void this.visit();
    });
  }

  /** The relay level the gateway drives (1 = energized). */
  relay(): 0 | 1 {
    return this.gpio.read(this.o.relayLine);
  }

  openDoor(): void {
    this.gpio.set(this.o.contactLine, other(this.o.closedLevel ?? 0));
  }

  closeDoor(): void {
    this.gpio.set(this.o.contactLine, this.o.closedLevel ?? 0);
  }

  bolt(): void {
    this.gpio.set(this.o.boltLine, this.o.boltLevel ?? 0);
  }

  unbolt(): void {
    this.gpio.set(this.o.boltLine, other(this.o.boltLevel ?? 0));
  }

  /** Someone turns a Euro-key in the switch and lets go after `holdMs`. */
  async turnEurokey(holdMs = 300): Promise<void> {
    if (this.o.eurokeyLine === undefined) throw new Error('this cabin has no Euro-key switch');
    this.gpio.set(this.o.eurokeyLine, this.o.eurokeyLevel ?? 0);
    await sleep(holdMs);
    this.gpio.set(this.o.eurokeyLine, other(this.o.eurokeyLevel ?? 0));
  }

  /** One visit: in through the open door, bolt, stay, unbolt, out. */
  async visit(stayMs = this.o.visitMs ?? 3000): Promise<void> {
    this.visiting = true;
    try {
      await sleep(500);
      this.openDoor();
      await sleep(800);
      this.closeDoor();
      await sleep(300);
      this.bolt();
      await sleep(stayMs);
      if (this.stopped) return;
      this.unbolt();
      await sleep(300);
      this.openDoor();
      await sleep(800);
      this.closeDoor();
      this.visits++;
    } finally {
      this.visiting = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    this.gpio.close();
  }
}
