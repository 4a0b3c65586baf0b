import { describe, expect, it } from 'vitest';
import { getCodec, isBenignDecode, reasonOfDecode } from '../../../devices/codecs.js';

const shelly = getCodec('shelly-coiot');
const maxbotix = getCodec('maxbotix');
const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};
const reason = (fn: () => unknown) => reasonOfDecode(caught(fn));

/**
 * Shelly H&T (SHHT-1) CoIoT status built from the sensor ids of its CoIoT description (as restated in the
 * ioBroker.shelly device definition, firmware 1.8+): 9103 cfgChanged, 3101 °C, 3102 °F, 3103 humidity,
 * 3115 sensorError, 3111 battery %, 9102 wakeupEvent.
 */
const HT_STATUS =
  '{"G":[[0,9103,0],[0,3101,22.5],[0,3102,72.5],[0,3103,51.5],[0,3115,0],[0,3111,87],[0,9102,["sensor"]]]}';

describe('shelly-coiot', () => {
  it('decodes an H&T status: °C preferred, humidity, battery above the low mark', () => {
    expect(shelly.decode(HT_STATUS)).toEqual({
      type: 'weather.reading',
      data: { temperature_c: 22.5, humidity_pct: 51.5, battery_ok: true },
    });
  });

  it('treats 999 as no value, reads °F when °C is missing, and a low battery as not ok', () => {
    const s = '{"G":[[0,3101,999],[0,3102,50.0],[0,3103,999],[0,3111,8]]}';
    expect(shelly.decode(s).data).toEqual({ temperature_c: 10, battery_ok: false });
  });

  it('voids temperature and humidity on a sensor error', () => {
    const s = '{"G":[[0,3101,22.5],[0,3103,51.5],[0,3115,1],[0,3111,87]]}';
    expect(shelly.decode(s).data).toEqual({ battery_ok: true });
  });

  it('reads the CoIoT v1 ids of older firmware (33 temperature, 44 humidity, 77 battery)', () => {
    expect(shelly.decode('{"G":[[0,33,19.25],[0,44,60],[0,77,100]]}').data).toEqual({
      temperature_c: 19.25,
      humidity_pct: 60,
      battery_ok: true,
    });
  });

  it('names a relay status on the same multicast group not_weather (benign)', () => {
    const err = caught(() => shelly.decode('{"G":[[0,9103,1],[0,1101,1],[0,4101,12.5]]}'));
    expect(reasonOfDecode(err)).toBe('not_weather');
    expect(isBenignDecode(err)).toBe(true);
  });

  it('rejects shapes that are not CoIoT status', () => {
    expect(reason(() => shelly.decode('{"G":[[0,3101]]}'))).toBe('garbage');
    expect(reason(() => shelly.decode('{"temp":22}'))).toBe('garbage');
    expect(reason(() => shelly.decode('{"G":[[0,3101,22.5]'))).toBe('truncated');
  });
});

/** MaxBotix HRLV-MaxSonar-EZ datasheet, serial output: "R" + four digits of range in mm + carriage return. */
describe('maxbotix', () => {
  it('reads R0750\\r as 0.75 m, occupied under the default 1.5 m threshold', () => {
    expect(maxbotix.decode('R0750\r')).toEqual({
      type: 'parking.occupancy',
      data: { occupied: true, distance_m: 0.75 },
    });
  });

  it('reads R2410 as free, and applies a configured threshold inclusively', () => {
    expect(maxbotix.decode('R2410').data).toEqual({ occupied: false, distance_m: 2.41 });
    expect(maxbotix.decode('R2410', { threshold_m: 2.41 }).data.occupied).toBe(true);
  });

  it('reads the no-target value (5000, or 9999 on 10 m models) as free with no distance', () => {
    expect(maxbotix.decode('R5000\r').data).toEqual({ occupied: false });
    expect(maxbotix.decode('R9999').data).toEqual({ occupied: false });
  });

  it('rejects cut, long, foreign and misconfigured readings', () => {
    expect(reason(() => maxbotix.decode('R07'))).toBe('truncated');
    expect(reason(() => maxbotix.decode('R07500'))).toBe('oversized');
    expect(reason(() => maxbotix.decode('TempI'))).toBe('garbage');
    expect(reason(() => maxbotix.decode('R0750', { fport: 2 }))).toBe('wrong_port');
    expect(reason(() => maxbotix.decode('R0750', { threshold_m: 0 }))).toBe('bad_option');
  });
});
