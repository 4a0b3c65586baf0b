import { describe, expect, it } from 'vitest';
import { ZoneCounter } from '../../../devices/parking/occupancy/zone-state.js';
import { decodeBayReading } from '../../../devices/parking/senml.js';
import { isPortierError } from '../../../src/core/errors.js';

describe('zone counter', () => {
  it('counts listed bays as unknown until they report, and never promises an unknown space', () => {
    const z = new ZoneCounter('market', 4, ['a', 'b', 'c']);
    expect(z.snapshot()).toEqual({ zone: 'market', capacity: 4, occupied: 0, free: 1, unknown: 3 });
    z.set('a', true);
    z.set('b', false);
    expect(z.snapshot()).toEqual({ zone: 'market', capacity: 4, occupied: 1, free: 2, unknown: 1 });
  });

  it('lets a bay join by reporting, reports changes only, and makes a lost bay unknown', () => {
    const z = new ZoneCounter('market', 2);
    expect(z.set('x', true)).toBe(true);
    expect(z.set('x', true)).toBe(false);
    expect(z.lose('y')).toBe(false);
    expect(z.lose('x')).toBe(true);
    expect(z.snapshot()).toMatchObject({ occupied: 0, unknown: 1, free: 1 });
  });

  it('keeps free at zero when more bays are occupied than the capacity says', () => {
    const z = new ZoneCounter('tiny', 1);
    z.set('a', true);
    z.set('b', true);
    expect(z.snapshot()).toMatchObject({ occupied: 2, free: 0 });
  });

  it('matches a brute-force count over a long random sequence', () => {
    const z = new ZoneCounter(
      'big',
      300,
      Array.from({ length: 250 }, (_, i) => `b${i}`),
    );
    const truth = new Map<string, boolean | undefined>(Array.from({ length: 250 }, (_, i) => [`b${i}`, undefined]));
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 20_000; i++) {
      const bay = `b${Math.floor(rnd() * 260)}`;
      const r = rnd();
      if (r < 0.05) {
        if (z.lose(bay)) truth.set(bay, undefined);
      } else {
        z.set(bay, r < 0.55);
        truth.set(bay, r < 0.55);
      }
    }
    const occupied = [...truth.values()].filter((v) => v === true).length;
    const unknown = [...truth.values()].filter((v) => v === undefined).length;
    expect(z.snapshot()).toMatchObject({ occupied, unknown, free: Math.max(0, 300 - occupied - unknown) });
  });
});

describe('SenML bay readings (RFC 8428)', () => {
  it('reads a pack with a base name, a boolean presence and registered units', () => {
    // Built the way RFC 8428's examples are (a base name urn:dev:ow:..., records with n, u, v), with a bay's fields.
    const pack = JSON.stringify([
      { bn: 'urn:dev:ow:10e2073a01080063:', bt: 1.320067464e9, n: 'presence', vb: true },
      { n: 'distance', u: 'm', v: 0.384 },
      { n: 'voltage', u: 'V', v: 3.6 },
      { n: 'temp', u: 'Cel', v: 23.1 },
      { n: 'battery', u: '%EL', v: 87 },
    ]);
    expect(decodeBayReading(pack)).toEqual({
      occupied: true,
      distance_m: 0.384,
      battery_v: 3.6,
      temperature_c: 23.1,
      battery_pct: 87,
    });
  });

  it('takes the unit from bu and a 0/1 presence from v', () => {
    expect(decodeBayReading('[{"bn":"bay7/","bu":"m","n":"distance","v":2.1},{"n":"occupancy","v":0}]')).toEqual({
      occupied: false,
      distance_m: 2.1,
    });
  });

  it('reads the plain JSON object some sensors send', () => {
    expect(decodeBayReading('{"occupied":true,"battery_v":3.3}')).toEqual({ occupied: true, battery_v: 3.3 });
  });

  it('reads the temperature of RFC 8428 §5.1.1 (single datapoint) but refuses it as a bay reading', () => {
    const rfc = '[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]';
    expect(() => decodeBayReading(rfc)).toThrow(/no presence or distance/);
  });

  it.each([
    ['[{"n":"presence","vb":tr', 'truncated'],
    ['[]', 'garbage'],
    ['[1,2]', 'garbage'],
    ['[{"n":"humidity","u":"%RH","v":40}]', 'out_of_range'],
    ['nope', 'garbage'],
    [`[${'{"n":"x","v":1},'.repeat(70)}{"n":"presence","vb":true}]`, 'oversized'],
  ])('rejects %s as %s', (body, reason) => {
    try {
      decodeBayReading(body);
      expect.unreachable();
    } catch (err) {
      expect(isPortierError(err)).toBe(true);
      expect((err as { context: { reason: string } }).context.reason).toBe(reason);
    }
  });
});
