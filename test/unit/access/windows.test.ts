import { describe, expect, it } from 'vitest';
import type { PassClaims } from '../../../src/access/claims.js';
import { checkPolicy } from '../../../src/access/policy.js';
import { inWindows, parseWindows, ZoneClock } from '../../../src/access/windows.js';

const berlin = new ZoneClock('Europe/Berlin');
const open = (win: unknown, iso: string, zone = berlin) => inWindows(parseWindows(win), zone.local(Date.parse(iso)));

describe('weekly windows (win claim) in the gateway time zone', () => {
  it('reads local weekday and minute, not UTC', () => {
    // 2025-06-11 is a Wednesday; 21:30 UTC is 23:30 in Berlin (CEST, UTC+2)
    expect(berlin.local(Date.parse('2025-06-11T21:30:00Z'))).toEqual({ weekday: 2, minute: 23 * 60 + 30 });
    // 23:30 UTC is already Thursday 01:30 in Berlin
    expect(berlin.local(Date.parse('2025-06-11T23:30:00Z'))).toEqual({ weekday: 3, minute: 90 });
    expect(new ZoneClock('UTC').local(Date.parse('2025-06-11T23:30:00Z'))).toEqual({ weekday: 2, minute: 1410 });
  });

  it('keeps 07:00 local across the spring DST change (Europe/Berlin, 2025-03-30)', () => {
    const win = [['mon-sun', '07:00', '08:00']];
    // a week before the change: CET, UTC+1, so 07:30 local is 06:30 UTC
    expect(open(win, '2025-03-23T06:30:00Z')).toBe(true);
    expect(open(win, '2025-03-23T05:30:00Z')).toBe(false);
    // on the day of the change: CEST, UTC+2, so 07:30 local is 05:30 UTC and 06:30 UTC is 08:30 local
    expect(open(win, '2025-03-30T05:30:00Z')).toBe(true);
    expect(open(win, '2025-03-30T06:30:00Z')).toBe(false);
  });

  it('skips the hour that does not exist in spring and counts the doubled hour in autumn', () => {
    const night = [['sun', '02:00', '03:00']];
    // 2025-03-30: 01:59:59 CET is followed by 03:00 CEST; no instant of that Sunday is 02:xx local
    for (let m = 0; m <= 120; m += 10) {
      expect(open(night, new Date(Date.parse('2025-03-30T00:00:00Z') + m * 60_000).toISOString())).toBe(false);
    }
    // 2025-10-26: 02:30 local happens twice, at 00:30 UTC (CEST) and 01:30 UTC (CET); both are inside
    expect(open(night, '2025-10-26T00:30:00Z')).toBe(true);
    expect(open(night, '2025-10-26T01:30:00Z')).toBe(true);
    expect(open(night, '2025-10-26T02:30:00Z')).toBe(false);
  });

  it('handles ranges, wrapping ranges, lists, * and windows past midnight', () => {
    // Friday 2025-06-13 23:00 local = 21:00 UTC; Saturday 01:00 local = 23:00 UTC Friday
    expect(open([['fri', '22:00', '02:00']], '2025-06-13T21:00:00Z')).toBe(true);
    expect(open([['fri', '22:00', '02:00']], '2025-06-13T23:00:00Z')).toBe(true);
    expect(open([['fri', '22:00', '02:00']], '2025-06-14T00:30:00Z')).toBe(false); // Sat 02:30
    expect(open([['sat', '22:00', '02:00']], '2025-06-13T23:00:00Z')).toBe(false); // Sat 01:00 is Friday's night
    expect(open([['fri-mon', '00:00', '24:00']], '2025-06-16T10:00:00Z')).toBe(true); // Monday
    expect(open([['fri-mon', '00:00', '24:00']], '2025-06-17T10:00:00Z')).toBe(false); // Tuesday
    expect(open([['mon,wed', '09:00', '17:00']], '2025-06-11T10:00:00Z')).toBe(true); // Wed 12:00
    expect(open([['*', '09:00', '17:00']], '2025-06-15T10:00:00Z')).toBe(true); // Sun 12:00
    expect(open([['mon-fri', '07:00', '19:00']], '2025-06-11T17:00:00Z')).toBe(false); // Wed 19:00: end excluded
  });

  it('refuses malformed windows with a reason', () => {
    for (const bad of [
      [],
      'mon-fri',
      [['mon-fri', '7:00', '19:00']],
      [['mon-fri', '07:00', '25:00']],
      [['someday', '07:00', '19:00']],
      [['mon-tue-wed', '07:00', '19:00']],
      [['mon', '24:00', '01:00']],
      [['mon', '07:00', '07:00']],
      [['mon', '07:00']],
      Array.from({ length: 33 }, () => ['mon', '07:00', '08:00']),
    ]) {
      expect(() => parseWindows(bad), JSON.stringify(bad).slice(0, 60)).toThrow(/^win: /);
    }
  });

  it('refuses an unknown time zone as a config error', () => {
    expect(() => new ZoneClock('Mars/Olympus_Mons')).toThrow(/unknown time zone/);
  });

  it("accepts zone aliases that are not on ICU's list of canonical zones", () => {
    // Etc/UTC and Europe/Kyiv are IANA names (tzdata's "backward" and "europe" files) that ICU lists under another
    expect(new ZoneClock('Etc/UTC').local(Date.parse('2025-06-11T23:30:00Z'))).toEqual({ weekday: 2, minute: 1410 });
    expect(new ZoneClock('Europe/Kyiv').local(Date.parse('2025-06-11T21:30:00Z'))).toEqual({ weekday: 3, minute: 30 });
  });

  it('reads UTC without Intl exactly as Intl reads it, across a week of instants', () => {
    // The reference: Intl's own UTC formatter, read independently of ZoneClock.
    const intl = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'UTC',
      weekday: 'long',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
    const utc = new ZoneClock('UTC');
    for (
      let ms = Date.parse('2025-12-28T00:00:00Z');
      ms < Date.parse('2026-01-05T00:00:00Z');
      ms += 37 * 60_000 + 11_000
    ) {
      const parts = Object.fromEntries(intl.formatToParts(ms).map((p) => [p.type, p.value]));
      const want = { weekday: days.indexOf(parts.weekday!), minute: Number(parts.hour) * 60 + Number(parts.minute) };
      expect(utc.local(ms), new Date(ms).toISOString()).toEqual(want);
    }
  });
});

describe('policy order and time quality', () => {
  const base: PassClaims = { aud: ['door-1'], exp: 2_000_000_000, nbf: 1_000_000_000, id: 'p' };
  const ctx = { lock: 'door-1', nowMs: 1_500_000_000_000, zone: new ZoneClock('UTC') };

  it('names the first failing step: audience before validity before revocation before schedule', () => {
    const everythingWrong: PassClaims = {
      ...base,
      aud: ['other'],
      exp: 1_400_000_000,
      win: parseWindows([['sun', '00:00', '00:01']]),
    };
    expect(checkPolicy(everythingWrong, { ...ctx, tq: 'synced', isRevoked: () => true })).toBe('wrong_lock');
    expect(checkPolicy({ ...everythingWrong, aud: ['door-1'] }, { ...ctx, tq: 'synced', isRevoked: () => true })).toBe(
      'expired',
    );
    expect(
      checkPolicy({ ...everythingWrong, aud: ['door-1'], exp: 2e9 }, { ...ctx, tq: 'synced', isRevoked: () => true }),
    ).toBe('revoked');
    expect(checkPolicy({ ...everythingWrong, aud: ['door-1'], exp: 2e9 }, { ...ctx, tq: 'synced' })).toBe(
      'outside_window',
    );
  });

  it('denies with time_unknown by default when time is unknown, and judges on the wall clock when the door allows', () => {
    expect(checkPolicy(base, { ...ctx, tq: 'unknown' })).toBe('time_unknown');
    expect(checkPolicy(base, { ...ctx, tq: 'unknown', timeUnknownPolicy: 'deny' })).toBe('time_unknown');
    expect(checkPolicy(base, { ...ctx, tq: 'unknown', timeUnknownPolicy: 'allow' })).toBeUndefined();
    expect(checkPolicy({ ...base, exp: 1_400_000_000 }, { ...ctx, tq: 'unknown', timeUnknownPolicy: 'allow' })).toBe(
      'expired',
    );
    // a floor is a proven lower bound on the time: good enough to call a pass expired
    expect(checkPolicy({ ...base, exp: 1_400_000_000 }, { ...ctx, tq: 'floor' })).toBe('expired');
  });

  it('tolerates 60 s of clock difference at nbf and exp by default', () => {
    const nowS = ctx.nowMs / 1000;
    expect(checkPolicy({ ...base, nbf: nowS + 59 }, { ...ctx, tq: 'synced' })).toBeUndefined();
    expect(checkPolicy({ ...base, nbf: nowS + 61 }, { ...ctx, tq: 'synced' })).toBe('not_yet_valid');
    expect(checkPolicy({ ...base, exp: nowS - 59 }, { ...ctx, tq: 'synced' })).toBeUndefined();
    expect(checkPolicy({ ...base, exp: nowS - 60 }, { ...ctx, tq: 'synced' })).toBe('expired');
    expect(checkPolicy({ ...base, exp: nowS - 1 }, { ...ctx, tq: 'synced', leewayS: 0 })).toBe('expired');
  });
});
