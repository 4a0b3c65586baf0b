import mqtt, { type MqttClient } from 'mqtt';

export interface Rtl433PublisherOptions {
  brokerUrl: string;
  /** rtl_433 names its events topic after the host it runs on: rtl_433/<host>/events */
  host?: string;
  model?: string;
  id?: number;
}

/**
 * rtl_433 (`rtl_433 -F mqtt://broker,events=rtl_433/<host>/events`) hearing a Fine Offset WH24 weather station and
 * the other traffic of a town's 868 MHz band: each reception is one JSON object with rtl_433's own field names and
 * units, as in the merbanan/rtl_433_tests captures. The station repeats each message; rtl_433 prints each copy.
 */
export class Rtl433PublisherStub {
  private client: MqttClient | undefined;
  private rainMm = 22.2;
  private seconds = 0;
  readonly topic: string;

  constructor(private readonly opts: Rtl433PublisherOptions) {
    this.topic = `rtl_433/${opts.host ?? 'town-hall-pi'}/events`;
  }

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(this.opts.brokerUrl, {
      clientId: `rtl433-stub-${process.pid}-${Date.now()}`,
    });
  }

  /** One station reception (published `repeats` times, as a station sending each message twice would be). */
  async reading(o: { temperatureC?: number; rainMm?: number; repeats?: number } = {}): Promise<void> {
    if (o.rainMm !== undefined) this.rainMm = o.rainMm;
    this.seconds += 16;
    const line = JSON.stringify({
      time: `@${this.seconds}.210816s`,
      model: this.opts.model ?? 'Fineoffset-WH24',
      id: this.opts.id ?? 191,
      battery_ok: 1,
      temperature_C: o.temperatureC ?? 11.8,
      humidity: 79,
      wind_dir_deg: 259,
      wind_avg_m_s: 0.56,
      wind_max_m_s: 1.12,
      rain_mm: this.rainMm,
      uv: 1,
      uvi: 0,
      light_lux: 0,
      mic: 'CRC',
    });
    for (let i = 0; i < (o.repeats ?? 1); i++) await this.publishRaw(line);
  }

  /** A tyre pressure sensor of a passing car: valid rtl_433 traffic that is not weather. */
  async tpms(): Promise<void> {
    await this.publishRaw(
      JSON.stringify({
        time: `@${this.seconds}.5s`,
        model: 'Toyota',
        type: 'TPMS',
        id: 'f2aa3d6b',
        status: 128,
        pressure_kPa: 227.5,
        temperature_C: 24,
        mic: 'CRC',
      }),
    );
  }

  async publishRaw(body: string): Promise<void> {
    if (!this.client) throw new Error('stub not started');
    await this.client.publishAsync(this.topic, body, { qos: 0 });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
  }
}
