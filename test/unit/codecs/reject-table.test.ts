import { describe, expect, it } from 'vitest';
import { CODECS, type DecodeOptions, getCodec, reasonOfDecode } from '../../../devices/codecs.js';
import { ErrorCode, PortierError } from '../../../src/core/errors.js';

/**
 * Every codec meets truncated, oversized, wrong-port and garbage input with a PortierError carrying the right
 * stable reason code (the reason a driver counts). A codec added to CODECS without rows here fails this suite.
 */
type Row = [reason: string, input: string | Buffer, opts?: DecodeOptions];

const DAVIS =
  '4c4f4f14003e032175da0239d10204056301ffffffffffffffffffffffffffffff4effffffffffffff0000ffff7f0000ffff000000000000' +
  '000000000000ffffffffffffff0000000000000000000000000000000000002703064b26023e070a0d1163';

const TABLE: Record<string, Row[]> = {
  'nwave-nps405': [
    ['truncated', '00D3', { fport: 2 }],
    ['oversized', '9595', { fport: 1 }],
    ['wrong_port', '95', { fport: 99 }],
    ['garbage', 'hello', { fport: 1 }],
  ],
  'nwave-nps310': [
    ['truncated', '', { fport: 1 }],
    ['oversized', '01020304', { fport: 2 }],
    ['wrong_port', '01', { fport: 10 }],
    ['garbage', '0x0g', { fport: 1 }],
  ],
  'bosch-tps110': [
    ['truncated', '2403', { fport: 3 }],
    ['oversized', '01FF00', { fport: 2 }],
    ['wrong_port', '01', { fport: 7 }],
    ['garbage', '1', { fport: 1 }],
  ],
  'milesight-em400-mud': [
    ['truncated', '04', { fport: 85 }],
    ['oversized', '0500'.repeat(40), { fport: 85 }],
    ['wrong_port', '04820101', { fport: 2 }],
    ['garbage', '77770101', { fport: 85 }],
  ],
  'dingtek-do201': [
    ['truncated', '80 00 31 02 17 06B4', { fport: 3 }],
    ['oversized', '80 00 31 02 17 06B4 00 00 0161 0010 FFF6 FFF0 8B 2D 0001 00 81 00', { fport: 3 }],
    ['wrong_port', '80 00 31 02 17 06B4 00 00 0161 0010 FFF6 FFF0 8B 2D 0001 00 81', { fport: 2 }],
    ['garbage', '00 00 31 02 17 06B4 00 00 0161 0010 FFF6 FFF0 8B 2D 0001 00 81', { fport: 3 }],
  ],
  chirpstack: [
    [
      'truncated',
      '{"deviceInfo":{"devEui":"0101010101010101"},"fPort":1,"data":"lQ=',
      { device_codec: 'nwave-nps405' },
    ],
    ['oversized', `{"pad":"${'x'.repeat(40_000)}"}`, { device_codec: 'nwave-nps405' }],
    [
      'wrong_port',
      '{"deviceInfo":{"devEui":"0101010101010101"},"fPort":9,"data":"lQ=="}',
      { device_codec: 'nwave-nps405' },
    ],
    ['garbage', 'not json', { device_codec: 'nwave-nps405' }],
    ['bad_envelope', '{"fPort":1,"data":"lQ=="}', { device_codec: 'nwave-nps405' }],
  ],
  'davis-loop': [
    ['truncated', DAVIS.slice(0, 100)],
    ['oversized', DAVIS + DAVIS],
    ['wrong_port', DAVIS, { fport: 1 }],
    ['garbage', `${'00'.repeat(99)}`],
    ['bad_crc', `${DAVIS.slice(0, -2)}00`],
  ],
};

const WH25 =
  '{"time" : "@0.193872s", "model" : "Fineoffset-WH25", "id" : 80, "battery_ok" : 1, "temperature_C" : 23.200, "humidity" : 57, "pressure_hPa" : 1001.100, "mic" : "CHECKSUM"}';
const MDA = '$WIMDA,3.02,I,1.01,B,23.4,C,,,40.2,,12.1,C,19.3,T,20.1,M,13.1,N,1.1,M*62';
const HT = '{"G":[[0,3101,22.5],[0,3103,51.5],[0,3111,87]]}';

TABLE.maxbotix = [
  ['truncated', 'R12\r'],
  ['oversized', 'R123456\r'],
  ['wrong_port', 'R1234\r', { fport: 1 }],
  ['garbage', 'X1234\r'],
];
TABLE.rtl433 = [
  ['truncated', WH25.slice(0, 70)],
  ['oversized', `{"model":"x","pad":"${'y'.repeat(5000)}"}`],
  ['wrong_port', WH25, { fport: 1 }],
  ['garbage', '[1,2,3]'],
  ['not_weather', '{"model" : "Ford", "type" : "TPMS", "id" : "45bb320f"}'],
];
TABLE['nmea-weather'] = [
  ['truncated', '$WIMDA,3.02,I,1.01,B,23.4,C'],
  ['oversized', `${MDA}${','.repeat(100)}`],
  ['wrong_port', MDA, { fport: 1 }],
  ['garbage', 'hello world'],
  ['bad_crc', MDA.replace('*62', '*63')],
];
TABLE.ecowitt = [
  ['truncated', 'tempf=71.8&humidity='],
  ['oversized', `tempf=1&pad=${'x'.repeat(9000)}`],
  ['wrong_port', 'tempf=71.8', { fport: 1 }],
  ['garbage', '{"tempf": 71.8}'],
];
TABLE['shelly-coiot'] = [
  ['truncated', HT.slice(0, 20)],
  ['oversized', `{"G":[],"pad":"${'x'.repeat(5000)}"}`],
  ['wrong_port', HT, { fport: 1 }],
  ['garbage', '{"G":"nope"}'],
];

const REQUIRED = ['truncated', 'oversized', 'wrong_port', 'garbage'];

describe('reject table', () => {
  it('has rows for every codec and every required reason', () => {
    for (const codec of CODECS) {
      const reasons = (TABLE[codec.name] ?? []).map((r) => r[0]);
      for (const need of REQUIRED) expect(reasons, `${codec.name} lacks a ${need} row`).toContain(need);
    }
  });

  const rows = Object.entries(TABLE).flatMap(([name, list]) =>
    list.map(([reason, input, opts]) => ({ name, reason, input, opts })),
  );
  it.each(rows)('$name → $reason', ({ name, reason, input, opts }) => {
    let caught: unknown;
    try {
      getCodec(name).decode(input, opts);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PortierError);
    expect(reasonOfDecode(caught)).toBe(reason);
    const code = (caught as PortierError).code;
    expect(code).toBe(reason === 'bad_crc' ? ErrorCode.DeviceChecksum : ErrorCode.DeviceDecodeFailed);
    // An envelope passes its device codec's error through, so the codec named may be the inner one.
    expect(typeof (caught as PortierError).context.codec).toBe('string');
  });
});
