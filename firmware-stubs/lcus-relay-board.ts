import { decodeLcus, LcusFramer } from '../devices/locks/lcus-frame.js';
import { SerialDevice } from './serial-device.js';

export interface RelaySwitch {
  channel: number;
  on: boolean;
  /** performance.now() when the board switched */
  at: number;
}

/**
 * An LCUS-type USB relay board on a pty (CH340 at 9600): it takes 4-byte `A0 ch state sum` frames, ignores any with
 * a bad checksum or value as the firmware does, switches its relays and keeps their state. It never answers.
 * Unplugging it (closing the pty) loses the state: relays drop out when the board loses power.
 */
export class LcusRelayBoardStub {
  private readonly device: SerialDevice;
  private readonly framer = new LcusFramer();
  private readonly relays: boolean[];
  private readonly listeners = new Set<(s: RelaySwitch) => void>();
  /** Frames refused for a bad checksum or value. */
  refused = 0;
  /** Every change of a relay, in order. */
  readonly switches: RelaySwitch[] = [];

  constructor(
    path: string,
    readonly channels = 1,
  ) {
    this.device = new SerialDevice(path, 9600);
    this.relays = new Array<boolean>(channels).fill(false);
  }

  async start(): Promise<void> {
    this.relays.fill(false);
    await this.device.open((chunk) => this.framer.push(chunk, (frame) => this.onFrame(frame)));
  }

  /** Whether relay `channel` (1-based) is on. */
  isOn(channel = 1): boolean {
    return this.relays[channel - 1] === true;
  }

  /** Call `listener` on every change of a relay. */
  onSwitch(listener: (s: RelaySwitch) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Send bytes as if the board spoke (it never does; for the driver's unexpected-data count). */
  async babble(data: Buffer): Promise<void> {
    await this.device.write(data);
  }

  async stop(): Promise<void> {
    await this.device.close();
    this.relays.fill(false);
  }

  private onFrame(frame: Buffer): void {
    const cmd = decodeLcus(frame);
    if (!cmd.ok || cmd.value.channel > this.channels) {
      this.refused++;
      return;
    }
    const { channel, on } = cmd.value;
    if (this.relays[channel - 1] === on) return;
    this.relays[channel - 1] = on;
    const s: RelaySwitch = { channel, on, at: performance.now() };
    this.switches.push(s);
    for (const l of [...this.listeners]) l(s);
  }
}
