import { describe, expect, it } from 'vitest';
import { getCodec, reasonOfDecode } from '../../../devices/codecs.js';
import { nmeaChecksum, nmeaSentence } from '../../../devices/weather/codecs/nmea-weather.js';
import { ErrorCode, type PortierError } from '../../../src/core/errors.js';

const nmea = getCodec('nmea-weather');

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
const reason = (fn: () => unknown) => reasonOfDecode(caught(fn));

describe('nmea-weather $--MDA', () => {
  it('adrianmo/go-nmea mda_test.go "good sentence": bar preferred to inches, m/s preferred to knots', () => {
    expect(nmea.decode('$WIMDA,3.02,I,1.01,B,23.4,C,,,40.2,,12.1,C,19.3,T,20.1,M,13.1,N,1.1,M*62')).toEqual({
      type: 'weather.reading',
      data: {
        pressure_hpa: 1010,
        temperature_c: 23.4,
        humidity_pct: 40.2,
        dew_point_c: 12.1,
        wind_dir_deg: 19.3,
        wind_speed_ms: 1.1,
      },
    });
  });

  it('OlivierLD NMEA parser example: pressure and air temperature only, the other fields empty', () => {
    expect(nmea.decode('$WIMDA,29.4473,I,0.9972,B,17.2,C,,,,,,,,,,,,,,*3E\r\n').data).toEqual({
      pressure_hpa: 997.2,
      temperature_c: 17.2,
    });
  });

  it('OlivierLD NMEA multiplexer example: wind from the true direction and the m/s field', () => {
    expect(nmea.decode('$WIMDA,29.796,I,1.009,B,31.7,C,,,,,,,82.3,T,72.3,M,7.4,N,3.8,M*23').data).toEqual({
      pressure_hpa: 1009,
      temperature_c: 31.7,
      wind_dir_deg: 82.3,
      wind_speed_ms: 3.8,
    });
  });

  it('falls back to inches of mercury and knots when the SI fields are empty', () => {
    const s = nmeaSentence('IIMDA,29.921,I,,B,5.0,C,,,,,,,,T,,M,10.0,N,,M');
    expect(nmea.decode(s).data).toEqual({ pressure_hpa: 1013.24, temperature_c: 5, wind_speed_ms: 5.14 });
  });
});

describe('nmea-weather $--MWV', () => {
  it('dotnet/iot Nmea0183 tests (ApparentWindSpeedDecode): 350°, 16.8 kn', () => {
    expect(nmea.decode('$WIMWV,350.0,R,16.8,N,A*1A').data).toEqual({ wind_dir_deg: 350, wind_speed_ms: 8.64 });
  });

  it('com.bb.nmea MWV_Test: another talker ($EC), relative, knots', () => {
    expect(nmea.decode('$ECMWV,123.5,R,1.2,N,A*3D').data).toEqual({ wind_dir_deg: 123.5, wind_speed_ms: 0.62 });
  });

  it('reads every speed unit: M, K, S', () => {
    expect(nmea.decode(nmeaSentence('WIMWV,90,T,3.5,M,A')).data.wind_speed_ms).toBe(3.5);
    expect(nmea.decode(nmeaSentence('WIMWV,90,T,36,K,A')).data.wind_speed_ms).toBe(10);
    expect(nmea.decode(nmeaSentence('WIMWV,360,T,10,S,A')).data).toEqual({ wind_dir_deg: 0, wind_speed_ms: 4.47 });
  });

  it('rejects data the sensor flags invalid (status V) and an unknown unit', () => {
    expect(reason(() => nmea.decode(nmeaSentence('WIMWV,90,R,3.5,M,V')))).toBe('out_of_range');
    expect(reason(() => nmea.decode(nmeaSentence('WIMWV,90,R,3.5,X,A')))).toBe('garbage');
  });
});

describe('nmea-weather checks', () => {
  it('computes the XOR checksum', () => {
    expect(nmeaChecksum('YXXDR,C,16,C')).toBe(0x64);
  });

  it('rejects a bad checksum as DeviceChecksum: a sample published with a wrong checksum (*27, should be *0A)', () => {
    const err = caught(() => nmea.decode('$WIMWV,045,R,12.5,N,A*27'));
    expect(reasonOfDecode(err)).toBe('bad_crc');
    expect((err as PortierError).code).toBe(ErrorCode.DeviceChecksum);
  });

  it('names other sentences not_weather, a cut sentence truncated, a missing checksum truncated', () => {
    expect(reason(() => nmea.decode('$YXXDR,C,16,C*64'))).toBe('not_weather');
    expect(reason(() => nmea.decode('$GPGGA,014457,3739.853,N,12222.821,W,1,03,5.4,1.1,M,-28.2,M,,*7E'))).toBe(
      'not_weather',
    );
    expect(reason(() => nmea.decode(nmeaSentence('WIMDA,29.9,I,1.01,B,5.0,C')))).toBe('truncated');
    expect(reason(() => nmea.decode('$WIMWV,350.0,R,16.8,N,A'))).toBe('truncated');
    expect(reason(() => nmea.decode('$WIMWV,350.0,R,16.8,N,A*1'))).toBe('truncated');
    expect(reason(() => nmea.decode('WIMWV,350.0,R,16.8,N,A*1A'))).toBe('garbage');
    expect(reason(() => nmea.decode(`$WIMDA,${'1,'.repeat(80)}*00`))).toBe('oversized');
  });
});
