import { describe, expect, it } from 'vitest';
import {
  getCodec,
  parseChirpstackUplink,
  parseLoraUplink,
  parseTtsUplink,
  reasonOfDecode,
} from '../../../devices/codecs.js';
import { ChirpstackSensorStub } from '../../../firmware-stubs/chirpstack-sensor.js';

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return reasonOfDecode(err);
  }
  return 'no error';
}

/**
 * The `up` event example of the ChirpStack v4 documentation (Integrations → Event types → up), restated: no
 * `fCnt` (it is 0, and the protobuf JSON mapping leaves defaults out), payload `qg==` (0xAA) on fPort 1.
 */
const CHIRPSTACK_DOCS_UP = {
  deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
  time: '2022-07-18T09:34:15.775023242+00:00',
  deviceInfo: {
    tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
    tenantName: 'ChirpStack',
    applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97',
    applicationName: 'Test application',
    deviceProfileId: '14855bf7-d10d-4aee-b618-ebfcb64dc7ad',
    deviceProfileName: 'Test device-profile',
    deviceName: 'Test device',
    devEui: '0101010101010101',
    tags: { key: 'value' },
  },
  devAddr: '00189440',
  dr: 1,
  fPort: 1,
  data: 'qg==',
  rxInfo: [
    {
      gatewayId: '0016c001f153a14c',
      uplinkId: 4217106255,
      rssi: -36,
      snr: 10.5,
      context: 'E3OWOQ==',
      metadata: { region_name: 'eu868', region_common_name: 'EU868' },
    },
  ],
  txInfo: {
    frequency: 867100000,
    modulation: { lora: { bandwidth: 125000, spreadingFactor: 11, codeRate: 'CR_4_5' } },
  },
};

/** The uplink message example of The Things Stack documentation (Integrations → Data Formats), restated. */
const TTS_DOCS_UP = {
  end_device_ids: {
    device_id: 'dev1',
    application_ids: { application_id: 'app1' },
    dev_eui: '0004A30B001C0530',
    join_eui: '800000000000000C',
    dev_addr: '00BCB929',
  },
  correlation_ids: ['as:up:01...'],
  received_at: '2020-02-12T15:15:10.000Z',
  uplink_message: {
    session_key_id: 'AXA50...',
    f_port: 1,
    f_cnt: 1,
    frm_payload: 'vu8=',
    decoded_payload: { bytes: [190, 239] },
    rx_metadata: [
      {
        gateway_ids: { gateway_id: 'gtw1', eui: '9C5C8E00001A05C4' },
        time: '2020-02-12T15:15:10.000Z',
        timestamp: 2463457000,
        rssi: -35,
        channel_rssi: -35,
        snr: 5.2,
      },
      { gateway_ids: { gateway_id: 'gtw2' }, rssi: -93, snr: -4 },
    ],
    settings: { frequency: '868000000' },
    received_at: '2020-02-12T15:15:09.900Z',
    consumed_airtime: '0.056576s',
  },
};

describe('parseChirpstackUplink', () => {
  it('reads the ChirpStack docs example, with the absent fCnt as 0', () => {
    expect(parseChirpstackUplink(JSON.stringify(CHIRPSTACK_DOCS_UP))).toEqual({
      server: 'chirpstack',
      devEui: '0101010101010101',
      fport: 1,
      fcnt: 0,
      payload: Buffer.from([0xaa]),
      rssi_dbm: -36,
      snr_db: 10.5,
      time: '2022-07-18T09:34:15.775023242+00:00',
      deviceName: 'Test device',
      applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97',
    });
  });

  it('takes absent fPort and data as 0 and empty (protobuf JSON defaults)', () => {
    const { fPort: _p, data: _d, rxInfo: _r, ...bare } = CHIRPSTACK_DOCS_UP;
    const up = parseChirpstackUplink(Buffer.from(JSON.stringify(bare)));
    expect(up.fport).toBe(0);
    expect(up.payload.length).toBe(0);
    expect(up).not.toHaveProperty('rssi_dbm');
  });

  it('reads what the project ChirpStack stub publishes', () => {
    const stub = new ChirpstackSensorStub({ brokerUrl: 'mqtt://unused', devEui: '70B3D5499A1B2C3D' });
    const up = parseChirpstackUplink(JSON.stringify(stub.uplinkEvent(2, Buffer.from('00D3D800590B', 'hex'), -101)));
    expect(up).toMatchObject({ devEui: '70b3d5499a1b2c3d', fport: 2, fcnt: 0, rssi_dbm: -101 });
    expect(up.payload.toString('hex')).toBe('00d3d800590b');
  });

  it('names the first schema problem by path', () => {
    const bad = { ...CHIRPSTACK_DOCS_UP, deviceInfo: { devEui: 'xyz' } };
    let msg = '';
    try {
      parseChirpstackUplink(JSON.stringify(bad));
    } catch (err) {
      msg = (err as Error).message;
      expect(reasonOfDecode(err)).toBe('bad_envelope');
    }
    expect(msg).toContain('deviceInfo.devEui');
  });

  it('rejects non-JSON, a cut JSON object, bad base64 and a payload longer than LoRaWAN allows', () => {
    expect(reason(() => parseChirpstackUplink('hello'))).toBe('garbage');
    expect(reason(() => parseChirpstackUplink(JSON.stringify(CHIRPSTACK_DOCS_UP).slice(0, 80)))).toBe('truncated');
    expect(reason(() => parseChirpstackUplink(JSON.stringify({ ...CHIRPSTACK_DOCS_UP, data: 'q!==' })))).toBe(
      'bad_envelope',
    );
    const big = Buffer.alloc(243).toString('base64');
    expect(reason(() => parseChirpstackUplink(JSON.stringify({ ...CHIRPSTACK_DOCS_UP, data: big })))).toBe('oversized');
    expect(reason(() => parseChirpstackUplink(`{"pad":"${'x'.repeat(40_000)}"}`))).toBe('oversized');
  });
});

describe('parseTtsUplink', () => {
  it('reads The Things Stack docs example and keeps the strongest gateway', () => {
    expect(parseTtsUplink(JSON.stringify(TTS_DOCS_UP))).toEqual({
      server: 'tts',
      devEui: '0004a30b001c0530',
      fport: 1,
      fcnt: 1,
      payload: Buffer.from([0xbe, 0xef]),
      rssi_dbm: -35,
      snr_db: 5.2,
      time: '2020-02-12T15:15:09.900Z',
      deviceName: 'dev1',
      applicationId: 'app1',
    });
  });

  it('is chosen by parseLoraUplink for a body with uplink_message', () => {
    expect(parseLoraUplink(JSON.stringify(TTS_DOCS_UP)).server).toBe('tts');
    expect(parseLoraUplink(JSON.stringify(CHIRPSTACK_DOCS_UP)).server).toBe('chirpstack');
  });

  it('rejects a message without a DevEUI', () => {
    const { dev_eui: _e, ...ids } = TTS_DOCS_UP.end_device_ids;
    expect(reason(() => parseTtsUplink(JSON.stringify({ ...TTS_DOCS_UP, end_device_ids: ids })))).toBe('bad_envelope');
  });
});

describe('chirpstack codec', () => {
  const codec = getCodec('chirpstack');
  const nwave = (fPort: number, hex: string) =>
    JSON.stringify({ ...CHIRPSTACK_DOCS_UP, fPort, data: Buffer.from(hex, 'hex').toString('base64') });

  it('decodes the payload with the device codec and adds the uplink RSSI (vectors README: NPS405 95 on port 1)', () => {
    expect(codec.decode(nwave(1, '95'), { device_codec: 'nwave-nps405' })).toEqual({
      type: 'parking.occupancy',
      data: { occupied: true, kind: 'change', previous_state_s: 74 * 60, rssi_dbm: -36 },
    });
  });

  it('decodes a The Things Stack uplink the same way', () => {
    const body = JSON.stringify({
      ...TTS_DOCS_UP,
      uplink_message: { ...TTS_DOCS_UP.uplink_message, frm_payload: 'AQ==' },
    });
    expect(codec.decode(body, { device_codec: 'bosch-tps110' }).data).toEqual({
      occupied: true,
      kind: 'change',
      rssi_dbm: -35,
    });
  });

  it('passes threshold_m through to a distance sensor', () => {
    const body = nwave(85, '04820101');
    expect(codec.decode(body, { device_codec: 'milesight-em400-mud', threshold_m: 0.2 }).data.occupied).toBe(false);
  });

  it('needs a known LoRaWAN device codec', () => {
    expect(reason(() => codec.decode(nwave(1, '95')))).toBe('bad_option');
    expect(reason(() => codec.decode(nwave(1, '95'), { device_codec: 'nope' }))).toBe('unknown_codec');
    expect(reason(() => codec.decode(nwave(1, '95'), { device_codec: 'chirpstack' }))).toBe('unknown_codec');
    expect(reason(() => codec.decode(nwave(1, '95'), { device_codec: 'davis-loop' }))).toBe('wrong_port');
  });

  it('reports the device codec reason for a bad payload inside a good envelope', () => {
    expect(reason(() => codec.decode(nwave(4, '95'), { device_codec: 'nwave-nps405' }))).toBe('wrong_port');
    expect(reason(() => codec.decode(nwave(2, '00'), { device_codec: 'nwave-nps405' }))).toBe('truncated');
  });
});
