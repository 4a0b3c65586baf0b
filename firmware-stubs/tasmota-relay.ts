import mqtt, { type MqttClient } from 'mqtt';
import { parsePowerText } from '../devices/locks/tasmota-payloads.js';

export interface TasmotaRelayOptions {
  brokerUrl: string;
  /** The device's %topic%. */
  topic: string;
  /** ms between tele/<topic>/STATE messages (Tasmota's TelePeriod, 300 s by default); 0 = only at connect */
  telePeriodMs?: number;
}

/**
 * A single-relay Tasmota device on MQTT, as its firmware behaves with default settings: a retained LWT
 * `tele/<topic>/LWT` ("Online" after connecting, "Offline" as the will), commands on `cmnd/<topic>/POWER`
 * (ON/OFF/TOGGLE, or empty to ask), answers on `stat/<topic>/RESULT` and `stat/<topic>/POWER`, and telemetry on
 * `tele/<topic>/STATE`. The button on the device toggles the relay too.
 */
export class TasmotaRelayStub {
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private relay = false;
  private readonly listeners = new Set<(on: boolean) => void>();
  /** Every change of the relay, in order. */
  readonly switches: Array<{ on: boolean; at: number }> = [];
  /** Commands received, in order (payloads). */
  readonly commands: string[] = [];

  constructor(private readonly opts: TasmotaRelayOptions) {}

  get on(): boolean {
    return this.relay;
  }

  onSwitch(listener: (on: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async start(): Promise<void> {
    const lwt = this.topic('tele', 'LWT');
    const client = await mqtt.connectAsync(this.opts.brokerUrl, {
      clientId: `tasmota-stub-${this.opts.topic}-${process.pid}-${Date.now()}`,
      will: { topic: lwt, payload: Buffer.from('Offline'), retain: true, qos: 1 },
      reconnectPeriod: 0,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onCommand(topic, payload.toString('utf8')));
    await client.subscribeAsync(`cmnd/${this.opts.topic}/#`, { qos: 1 });
    await client.publishAsync(lwt, 'Online', { retain: true, qos: 1 });
    await this.tele();
    const every = this.opts.telePeriodMs ?? 0;
    if (every > 0) this.timer = setInterval(() => void this.tele().catch(() => undefined), every);
  }

  /** Someone presses the button on the device: the relay toggles and the device reports it. */
  async press(): Promise<void> {
    this.switch(!this.relay);
    await this.report();
  }

  /** Publish anything on one of the device's topics (malformed messages for tests). */
  async publishRaw(prefix: 'stat' | 'tele', name: string, payload: string | Buffer): Promise<void> {
    await this.client?.publishAsync(this.topic(prefix, name), payload, { qos: 1 });
  }

  /** The device drops off the network without a goodbye: the broker publishes its will ("Offline"). */
  loseWifi(): void {
    clearInterval(this.timer);
    this.client?.end(true);
    this.client = undefined;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.client?.endAsync();
    this.client = undefined;
  }

  private topic(prefix: 'cmnd' | 'stat' | 'tele', name: string): string {
    return `${prefix}/${this.opts.topic}/${name}`;
  }

  private onCommand(topic: string, payload: string): void {
    const name = topic.slice(`cmnd/${this.opts.topic}/`.length).toUpperCase();
    if (name !== 'POWER' && name !== 'POWER1') return;
    this.commands.push(payload);
    const text = payload.trim().toUpperCase();
    if (text === 'TOGGLE' || text === '2') this.switch(!this.relay);
    else if (text !== '') {
      const on = parsePowerText(text);
      // Tasmota answers an unknown value with the current state, unchanged.
      if (on !== undefined) this.switch(on);
    }
    void this.report().catch(() => undefined);
  }

  private switch(on: boolean): void {
    if (on === this.relay) return;
    this.relay = on;
    this.switches.push({ on, at: performance.now() });
    for (const l of [...this.listeners]) l(on);
  }

  private async report(): Promise<void> {
    const state = this.relay ? 'ON' : 'OFF';
    await this.client?.publishAsync(this.topic('stat', 'RESULT'), JSON.stringify({ POWER: state }), { qos: 1 });
    await this.client?.publishAsync(this.topic('stat', 'POWER'), state, { qos: 1 });
  }

  private async tele(): Promise<void> {
    const state = {
      Time: new Date().toISOString().slice(0, 19),
      Uptime: '0T00:01:00',
      Heap: 25,
      POWER: this.relay ? 'ON' : 'OFF',
      Wifi: { AP: 1, SSId: 'town-wifi', RSSI: 70, Signal: -65 },
    };
    await this.client?.publishAsync(this.topic('tele', 'STATE'), JSON.stringify(state), { qos: 0 });
  }
}
