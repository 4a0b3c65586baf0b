import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface TtsSensorOptions {
  brokerUrl: string;
  /** The Things Stack application id. */
  applicationId?: string;
  /** Tenant id (`ttn` on The Things Network). */
  tenant?: string;
  /** End device id, lowercase letters, digits and dashes. */
  deviceId: string;
  devEui: string;
  /** An MQTT client to publish with (shared by many stubs); one of its own is made when absent. */
  client?: MqttClient;
}

/**
 * A LoRaWAN sensor as the gateway sees it through The Things Stack v3's MQTT server: each uplink is a JSON message
 * on `v3/<application id>@<tenant id>/devices/<device id>/up` with the payload base64 in
 * `uplink_message.frm_payload`, the port in `f_port`, and fields at their zero value left out (TTS marshals its
 * protobuf messages without unpopulated fields). Field names per The Things Stack "Data Formats" documentation.
 */
export class TtsSensorStub {
  private client: MqttClient | undefined;
  private fCnt = 0;
  readonly applicationId: string;
  readonly tenant: string;

  constructor(private readonly opts: TtsSensorOptions) {
    this.applicationId = opts.applicationId ?? 'town-parking';
    this.tenant = opts.tenant ?? 'ttn';
    this.client = opts.client;
  }

  get topic(): string {
    return `v3/${this.applicationId}@${this.tenant}/devices/${this.opts.deviceId}/up`;
  }

  async start(): Promise<void> {
    this.client ??= await mqtt.connectAsync(this.opts.brokerUrl, {
      clientId: `tts-stub-${this.opts.deviceId}-${process.pid}`,
      reconnectPeriod: 500,
    });
  }

  /** The uplink message The Things Stack would publish for this payload. */
  uplinkMessage(fPort: number, payload: Buffer, rssi = -101, snr = 6.25): Record<string, unknown> {
    const now = new Date().toISOString();
    const uplink: Record<string, unknown> = {
      session_key_id: randomBytes(16).toString('base64'),
      f_port: fPort,
      frm_payload: payload.toString('base64'),
      rx_metadata: [
        {
          gateway_ids: { gateway_id: 'town-hall-roof', eui: 'B827EBFFFE6C2A11' },
          time: now,
          timestamp: 1_234_567_890,
          rssi,
          channel_rssi: rssi,
          snr,
          uplink_token: randomBytes(24).toString('base64'),
        },
      ],
      settings: {
        data_rate: { lora: { bandwidth: 125000, spreading_factor: 9, coding_rate: '4/5' } },
        frequency: '868100000',
        timestamp: 1_234_567_890,
      },
      received_at: now,
      consumed_airtime: '0.164864s',
      network_ids: { net_id: '000013', tenant_id: this.tenant, cluster_id: 'eu1' },
    };
    if (this.fCnt > 0) uplink.f_cnt = this.fCnt;
    this.fCnt++;
    return {
      end_device_ids: {
        device_id: this.opts.deviceId,
        application_ids: { application_id: this.applicationId },
        dev_eui: this.opts.devEui.toUpperCase(),
        join_eui: '70B3D57ED0000000',
        dev_addr: '260B1C2F',
      },
      correlation_ids: [`as:up:${randomBytes(13).toString('hex').toUpperCase()}`],
      received_at: now,
      uplink_message: uplink,
    };
  }

  /** Publish one uplink with this payload. */
  async uplink(fPort: number, payload: Buffer): Promise<void> {
    await this.publishRaw(JSON.stringify(this.uplinkMessage(fPort, payload)));
  }

  /** Publish anything on the uplink topic (malformed messages for tests). */
  async publishRaw(body: string | Buffer): Promise<void> {
    if (!this.client) throw new Error('stub not started');
    await this.client.publishAsync(this.topic, body, { qos: 0 });
  }

  async stop(): Promise<void> {
    if (!this.opts.client) await this.client?.endAsync();
    this.client = undefined;
  }
}
