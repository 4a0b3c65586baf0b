import { describe, expect, it } from 'vitest';
import { getCodec, isBenignDecode, reasonOfDecode } from '../../../devices/codecs.js';

const rtl = getCodec('rtl433');

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return reasonOfDecode(err);
  }
  return 'no error';
}

/** Lines from merbanan/rtl_433_tests (path named per case); the first is restated in ../shared/vectors/README.md. */
const LINES = {
  // tests/fineoffset/fineoffset_wh24 (vectors README)
  wh24: '{"time" : "@0.210816s", "model" : "Fineoffset-WH24", "id" : 191, "battery_ok" : 1, "temperature_C" : 11.800, "humidity" : 79, "wind_dir_deg" : 259, "wind_avg_m_s" : 0.560, "wind_max_m_s" : 1.120, "rain_mm" : 22.200, "uv" : 1, "uvi" : 0, "light_lux" : 0.000, "mic" : "CRC"}',
  // tests/fineoffset/fineoffset_wh1080/01/gfile001.json
  wh1080:
    '{"time" : "@0.296320s", "model" : "Fineoffset-WHx080", "subtype" : 0, "id" : 5, "battery_ok" : 1, "temperature_C" : 7.400, "humidity" : 82, "wind_dir_deg" : 315, "wind_avg_km_h" : 0.000, "wind_max_km_h" : 2.448, "rain_mm" : 183.900, "mic" : "CRC"}',
  // tests/fineoffset/fineoffset_wh25/01/gfile001.json
  wh25: '{"time" : "@0.193872s", "model" : "Fineoffset-WH25", "id" : 80, "battery_ok" : 1, "temperature_C" : 23.200, "humidity" : 57, "pressure_hPa" : 1001.100, "mic" : "CHECKSUM"}',
  // tests/acurite/Acurite_5-n-1/VN1TXC_02.json
  acurite5n1:
    '{"time" : "@0.087052s", "model" : "Acurite-5n1", "message_type" : 49, "id" : 839, "channel" : "A", "sequence_num" : 0, "battery_ok" : 1, "wind_avg_km_h" : 4.311, "wind_dir_deg" : 337.500, "rain_in" : 0.660, "mic" : "CHECKSUM"}',
  // tests/acurite/Acurite_3-in-1/02/g001_433.92M_250k.json
  acurite3n1:
    '{"time" : "@0.130396s", "model" : "Acurite-3n1", "subtype" : 32, "id" : 7992, "channel" : "A", "sequence_num" : 1, "battery_ok" : 1, "wind_avg_mi_h" : 7.000, "temperature_F" : 30.300, "humidity" : 43, "mic" : "CHECKSUM"}',
  // tests/acurite/03/acurite-592txr-003.json (older output: battery_low)
  acuriteTower:
    '{"time" : "@0.040188s", "model" : "Acurite tower sensor", "id" : 12053, "channel" : "C", "temperature_C" : 26.700, "humidity" : 74, "battery_low" : 0}',
  // Bresser 6-in-1 as rtl_433 prints it (weewx-sdr user report, the format of rtl_433's bresser_6in1 decoder)
  bresser6in1:
    '{"time" : "2022-05-15 21:40:36", "model" : "Bresser-6in1", "id" : 555747563, "channel" : 0, "battery_ok" : 1, "temperature_C" : 19.700, "humidity" : 44, "sensor_type" : 1, "wind_max_m_s" : 0.000, "wind_avg_m_s" : 0.000, "wind_dir_deg" : 45, "mic" : "CRC"}',
  // tests/Ford_TPMS/gfile059.json
  fordTpms:
    '{"time" : "@0.184300s", "model" : "Ford", "type" : "TPMS", "id" : "45bb320f", "code" : "6ad446", "mic" : "CHECKSUM"}',
  // rtl_433_tests Toyota TPMS capture notes (0b9f6d5-low-battery.cu8): a tyre's temperature and pressure
  toyotaTpms:
    '{"time" : "@0.000000s", "model" : "Toyota", "type" : "TPMS", "id" : "f0b9f6d5", "status" : 176, "pressure_kPa" : 1.724, "temperature_C" : 17.000, "mic" : "CRC"}',
  // tests/EV1527-Universal-Remote/g018_433.92M_250k.json
  smoke: '{"time" : "@0.965948s", "model" : "Smoke-GS558", "id" : 27111, "unit" : 22, "learn" : 0, "code" : "8d3cf6"}',
};

describe('rtl433, rtl_433_tests captures', () => {
  it('Fine Offset WH24: m/s wind, rain in mm, uvi preferred over the raw uv count', () => {
    expect(rtl.decode(LINES.wh24)).toEqual({
      type: 'weather.reading',
      data: {
        temperature_c: 11.8,
        humidity_pct: 79,
        wind_speed_ms: 0.56,
        wind_gust_ms: 1.12,
        wind_dir_deg: 259,
        rain_mm: 22.2,
        uv_index: 0,
        battery_ok: true,
      },
    });
  });

  it('Fine Offset WHx080: km/h wind to m/s', () => {
    expect(rtl.decode(LINES.wh1080).data).toEqual({
      temperature_c: 7.4,
      humidity_pct: 82,
      wind_speed_ms: 0,
      wind_gust_ms: 0.68,
      wind_dir_deg: 315,
      rain_mm: 183.9,
      battery_ok: true,
    });
  });

  it('Fine Offset WH25: pressure in hPa', () => {
    expect(rtl.decode(LINES.wh25).data).toEqual({
      temperature_c: 23.2,
      humidity_pct: 57,
      pressure_hpa: 1001.1,
      battery_ok: true,
    });
  });

  it('Acurite 5-in-1: km/h wind, rain in inches', () => {
    expect(rtl.decode(LINES.acurite5n1).data).toEqual({
      wind_speed_ms: 1.2,
      wind_dir_deg: 337.5,
      rain_mm: 16.764,
      battery_ok: true,
    });
  });

  it('Acurite 3-in-1: mi/h wind, °F', () => {
    expect(rtl.decode(LINES.acurite3n1).data).toEqual({
      temperature_c: -0.94,
      humidity_pct: 43,
      wind_speed_ms: 3.13,
      battery_ok: true,
    });
  });

  it('Acurite tower, older output: battery_low 0 is a good battery', () => {
    expect(rtl.decode(LINES.acuriteTower).data).toEqual({ temperature_c: 26.7, humidity_pct: 74, battery_ok: true });
  });

  it('Bresser 6-in-1', () => {
    expect(rtl.decode(LINES.bresser6in1).data).toEqual({
      temperature_c: 19.7,
      humidity_pct: 44,
      wind_speed_ms: 0,
      wind_gust_ms: 0,
      wind_dir_deg: 45,
      battery_ok: true,
    });
  });

  it('tyre pressure sensors, remotes and smoke alarms are not weather (benign)', () => {
    for (const line of [LINES.fordTpms, LINES.toyotaTpms, LINES.smoke]) {
      let caught: unknown;
      try {
        rtl.decode(line);
      } catch (err) {
        caught = err;
      }
      expect(reasonOfDecode(caught)).toBe('not_weather');
      expect(isBenignDecode(caught)).toBe(true);
    }
  });
});

describe('rtl433 station selection and rejects', () => {
  it('selects one station by model and id, naming others unknown_model', () => {
    expect(rtl.decode(LINES.wh24, { model: 'Fineoffset-WH24', id: 191 }).data.temperature_c).toBe(11.8);
    expect(reason(() => rtl.decode(LINES.wh24, { model: 'Bresser-6in1' }))).toBe('unknown_model');
    expect(reason(() => rtl.decode(LINES.wh24, { id: '192' }))).toBe('unknown_model');
  });

  it('drops an implausible field instead of passing a sentinel on', () => {
    const line = '{"model":"Nexus-TH","id":1,"temperature_C":21.5,"humidity":255}';
    expect(rtl.decode(line).data).toEqual({ temperature_c: 21.5 });
  });

  it('rejects a cut line, a line without a model, non-JSON and an oversized line', () => {
    expect(reason(() => rtl.decode(LINES.wh24.slice(0, 60)))).toBe('truncated');
    expect(reason(() => rtl.decode('{"temperature_C": 3}'))).toBe('garbage');
    expect(reason(() => rtl.decode('rtl_433 version 23.11'))).toBe('garbage');
    expect(reason(() => rtl.decode(`{"model":"x","pad":"${'y'.repeat(5000)}"}`))).toBe('oversized');
  });
});
