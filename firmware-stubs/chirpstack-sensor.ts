import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface ChirpstackSensorOptions {
  brokerUrl: string;
  /** ChirpStack application id (a UUID in v4). */
  applicationId?: string;
  devEui: string;
  deviceName?: string;
  /** Device profile name, as ChirpStack puts it in deviceInfo. */
  profile?: string;
  /** QoS of the uplinks: ChirpStack's `[integration.mqtt] qos`, 0 by default there as here. */
  qos?: 0 | 1;
}

/**
 * A LoRaWAN sensor as the gateway sees it through ChirpStack v4's MQTT integration: each uplink is a JSON event on
 * `application/<application_id>/device/<dev_eui>/event/up` with the payload base64 in `data`, the port in `fPort`,
 * and fields at their default value left out (ChirpStack v4 uses protobuf JSON, so fCnt 0 is absent).
 */
export class ChirpstackSensorStub {
  private client: MqttClient | undefined;
  private fCnt = 0;
  readonly applicationId: string;

  constructor(private readonly opts: ChirpstackSensorOptions) {
    this.applicationId = opts.applicationId ?? '0b9b6c8e-5c52-4a4c-9a86-7b3e0b1e2f10';
  }

  get topic(): string {
    return `application/${this.applicationId}/device/${this.opts.devEui}/event/up`;
  }

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(this.opts.brokerUrl, {
      clientId: `chirpstack-stub-${this.opts.devEui}-${process.pid}`,
      reconnectPeriod: 500,
    });
  }

  /** The uplink event JSON ChirpStack would publish for this payload. */
  uplinkEvent(fPort: number, payload: Buffer, rssi = -97, snr = 7.5): Record<string, unknown> {
    const event: Record<string, unknown> = {
      deduplicationId: randomUUID(),
      time: new Date().toISOString(),
      deviceInfo: {
        tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
        tenantName: 'Town',
        applicationId: this.applicationId,
        applicationName: 'parking',
        deviceProfileId: 'a3f1a9c0-0c8f-4a0e-9d57-3e7f5a0c4b11',
        deviceProfileName: this.opts.profile ?? 'Nwave NPS405',
        deviceName: this.opts.deviceName ?? this.opts.devEui,
        devEui: this.opts.devEui,
      },
      devAddr: '01f2a3b4',
      dr: 5,
      fPort,
      data: payload.toString('base64'),
      rxInfo: [{ gatewayId: '0016c001ff10a235', rssi, snr, context: 'AAAAAA==' }],
      txInfo: {
        frequency: 868100000,
        modulation: { lora: { bandwidth: 125000, spreadingFactor: 7, codeRate: 'CR_4_5' } },
      },
    };
    if (this.fCnt > 0) event.fCnt = this.fCnt;
    this.fCnt++;
    return event;
  }

  /** Publish one uplink with this payload. */
  async uplink(fPort: number, payload: Buffer): Promise<void> {
    await this.publishRaw(JSON.stringify(this.uplinkEvent(fPort, payload)));
  }

  /** Publish anything on the uplink topic (malformed events for tests). */
  async publishRaw(body: string | Buffer): Promise<void> {
    if (!this.client) throw new Error('stub not started');
    await this.client.publishAsync(this.topic, body, { qos: this.opts.qos ?? 0 });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
  }
}
