import { afterEach, describe, expect, it } from 'vitest';
import { base45Encode } from '../../../src/access/base45.js';
import { importSigningKey, issueCwt, type PassSpec } from '../../../src/access/issue.js';
import { pinCode, pinSlot } from '../../../src/access/pin.js';
import { AccessService, type DecisionRequest } from '../../../src/access/service.js';
import { Metrics } from '../../../src/core/metrics.js';
import { cwtPayload, forgeCose, makeKey, openTestStore, type TestStore } from './forge.js';

const T = Date.UTC(2025, 5, 11, 8, 0, 0);
const NOW = T / 1000;
const DAY = 86_400;
const LOCK = 'toilet-1';
const key = makeKey('k1', 'EdDSA');
const signer = importSigningKey(key.privateJwk);
const pass = (over: Partial<PassSpec> = {}) =>
  `PT1:${base45Encode(issueCwt(signer, { aud: LOCK, exp: NOW + 3600, iat: NOW - 60, sub: 'holder-42', ...over }).bytes)}`;
const req = (value: string | Uint8Array, over: Partial<DecisionRequest> = {}): DecisionRequest => ({
  lock: LOCK,
  credential: { kind: 'pass', value },
  ...over,
});

const opened: TestStore[] = [];
function setup(opts: { startMs?: number; synced?: boolean; floorMs?: number } = {}) {
  const t = openTestStore({ startMs: opts.startMs ?? T, synced: opts.synced ?? true });
  opened.push(t);
  if (opts.floorMs !== undefined) {
    t.store.meta.writeFloor(opts.floorMs);
    t.store.close();
    t.reopen();
  }
  const svc = new AccessService({ store: t.store, timezone: 'Europe/Berlin' });
  svc.keys.importJwks({ keys: [key.publicJwk] });
  return { t, svc };
}
afterEach(() => {
  for (const t of opened.splice(0)) t.cleanup();
});

describe('AccessService decisions', () => {
  it('records every decision as an access.decision event with a pseudonymous subject, never the raw sub', () => {
    const { t, svc } = setup();
    const d = svc.decide(req(pass({ id: 'aa01' }), { reader: 'qr-1' }));
    expect(d).toMatchObject({ granted: true, reason: 'ok', passId: 'aa01', revocationVersion: 0 });
    expect(d.subject).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(d.event.data).toEqual({
      credential: 'pass',
      granted: true,
      reason: 'ok',
      lock: LOCK,
      pass_id: 'aa01',
      revocation_version: 0,
      subject: d.subject,
      reader: 'qr-1',
      format: 'cwt',
      kid: 'k1',
    });
    const again = svc.decide(req(pass({ id: 'aa02', aud: 'elsewhere' })));
    expect(again).toMatchObject({ granted: false, reason: 'wrong_lock', subject: d.subject });
    const bodies = t.store.db.prepare('SELECT body FROM events').pluck().all() as string[];
    expect(bodies).toHaveLength(2);
    expect(bodies.join('\n')).not.toContain('holder-42');
    // the key of the pseudonyms is the gateway's own: another gateway gives the same holder another pseudonym
    const other = setup().svc.decide(req(pass({ id: 'aa03' })));
    expect(other.subject).not.toBe(d.subject);
  });

  it('records the revocation list version of each decision', () => {
    const { svc } = setup();
    expect(svc.decide(req(pass({ id: 'bb01' }))).revocationVersion).toBe(0);
    svc.revocations.revoke('pass', 'someone-else');
    svc.revocations.revoke('sub', 'holder-42');
    const d = svc.decide(req(pass({ id: 'bb02' })));
    expect(d).toMatchObject({ reason: 'revoked', revocationVersion: 2, event: { data: { revocation_version: 2 } } });
    svc.revocations.unrevoke('sub', 'holder-42');
    expect(svc.decide(req(pass({ id: 'bb03' })))).toMatchObject({ granted: true, revocationVersion: 3 });
    // a cloud list replaces the local one, once per cloud version
    expect(svc.revocations.replaceFromCloud({ version: 7, passes: ['bb03'], subjects: [] })).toBe(true);
    expect(svc.revocations.replaceFromCloud({ version: 7, passes: [], subjects: [] })).toBe(false);
    expect(svc.decide(req(pass({ id: 'bb03' })))).toMatchObject({ reason: 'revoked', revocationVersion: 4 });
    expect(svc.revocations.list().map((r) => r.value)).toEqual(['bb03']);
  });

  it('counts uses across restarts: a single-use pass opens once even when the process dies without closing', () => {
    const { t, svc } = setup();
    const once = pass({ id: 'cc01', uses: 1 });
    const d = svc.decide(req(once));
    expect(d).toMatchObject({ granted: true, usesLeft: 0 });
    // no store.close(): no flush, no floor persist; the commit must already be on disk
    t.store.db.close();
    const svc2 = new AccessService({ store: t.reopen(), timezone: 'Europe/Berlin' });
    expect(svc2.decide(req(once))).toMatchObject({ granted: false, reason: 'uses_exhausted' });
    expect(t.store.events.tail(10).map((e) => e.data.reason)).toEqual(['ok', 'uses_exhausted']);
    expect(t.store.db.pragma('synchronous', { simple: true })).toBe(1); // back to NORMAL after the FULL commit
  });

  it('forgets use counts of passes that expired more than a day before the time floor, and keeps the others', () => {
    const { t, svc } = setup();
    svc.decide(req(pass({ id: 'old1', uses: 5, iat: NOW - 3 * DAY, exp: NOW + 60 })));
    svc.decide(req(pass({ id: 'new1', uses: 5, exp: NOW + 3 * DAY })));
    t.wall.ms = T + 2 * DAY * 1000;
    t.store.clock.now();
    new AccessService({ store: t.store }).prune();
    const ids = t.store.db.prepare('SELECT pass_id FROM access_uses ORDER BY pass_id').pluck().all();
    expect(ids).toEqual(['new1']);
  });

  it('rotates keys: old and new key both open until the old one is removed', () => {
    const { svc } = setup();
    const next = makeKey('k2', 'ES256');
    svc.keys.importJwks({ keys: [next.publicJwk] });
    const newPass = `PT1:${base45Encode(issueCwt(importSigningKey(next.privateJwk), { aud: LOCK, exp: NOW + 60, id: 'dd01' }).bytes)}`;
    expect(svc.decide(req(newPass)).granted).toBe(true);
    expect(svc.decide(req(pass({ id: 'dd02' }))).granted).toBe(true);
    svc.keys.remove('k1');
    expect(svc.decide(req(pass({ id: 'dd03' }))).reason).toBe('unknown_key');
    expect(svc.decide(req(newPass)).granted).toBe(true);
  });

  it('notices keys imported by another connection (the CLI while the daemon runs)', () => {
    const { t, svc } = setup();
    const cli = new AccessService({ store: t.reopen() });
    cli.keys.remove('k1');
    expect(svc.decide(req(pass({ id: 'ee01' }))).reason).toBe('unknown_key');
  });

  it('counts decisions by lock and reason when given metrics', async () => {
    const t = openTestStore({ startMs: T });
    opened.push(t);
    const metrics = new Metrics();
    const svc = new AccessService({ store: t.store, metrics });
    svc.decide(req('garbage'));
    svc.decide(req('garbage'));
    expect(
      await metrics.valueOf(metrics.registry.getSingleMetric('portier_access_decisions_total') as never, {
        reason: 'malformed',
      }),
    ).toBe(2);
  });
});

describe('time floor and unknown time', () => {
  it('denies an expired pass while the system clock is behind the time floor', () => {
    // the floor says 2025-06-11 (from NTP before a power cut); the clock came back a month behind, unsynced
    const { svc, t } = setup({ startMs: T - 30 * DAY * 1000, synced: false, floorMs: T });
    expect(t.store.clock.now()).toEqual({ ms: T, tq: 'floor' });
    const stale = pass({ id: 'ff01', iat: NOW - 2 * DAY, exp: NOW - DAY });
    expect(svc.decide(req(stale))).toMatchObject({ granted: false, reason: 'expired' });
    // the same pass against the wall clock alone would have looked valid
    expect(NOW - 30 * DAY).toBeLessThan(NOW - DAY);
    expect(svc.decide(req(pass({ id: 'ff02', iat: NOW - 60, exp: NOW + 3600 })))).toMatchObject({ granted: true });
  });

  it('denies with time_unknown on a gateway that never knew the time, then judges later passes against their iat', () => {
    // never synced, no floor yet; the wall clock runs 20 min behind (a Pi restored from fake-hwclock)
    const { svc, t } = setup({ startMs: T - 20 * 60_000, synced: false });
    expect(t.store.clock.now().tq).toBe('unknown');
    const first = pass({ id: 'gg01', iat: NOW, exp: NOW + 3600 });
    expect(svc.decide(req(first))).toMatchObject({ granted: false, reason: 'time_unknown' });
    // its iat raised the floor, durably, with the decision
    expect(t.store.meta.readFloor()).toBe(T);
    const expiredLongAgo = pass({ id: 'gg02', iat: NOW - 10 * DAY, exp: NOW - 9 * DAY });
    expect(svc.decide(req(expiredLongAgo))).toMatchObject({ reason: 'expired' });
    expect(svc.decide(req(pass({ id: 'gg03', iat: NOW, exp: NOW + 3600 })))).toMatchObject({ granted: true });
  });

  const floorAlarms = (t: TestStore) =>
    (t.store.db.prepare("SELECT body FROM events WHERE type = 'alarm'").pluck().all() as string[])
      .map((b) => JSON.parse(b) as { dev: string; data: Record<string, unknown> })
      .filter((e) => e.data.alarm === 'time_floor_jump_refused');

  it.each([
    ['another lock', { aud: 'door-elsewhere' }],
    ['this lock', {}],
  ])(
    'a pass for %s with iat in year 9999 moves no floor, raises an alarm, and valid passes keep opening',
    (_, over) => {
      const { svc, t } = setup({ synced: false, floorMs: T - 60_000 });
      const y9999 = Date.UTC(9999, 0, 1) / 1000;
      svc.decide(req(pass({ id: 'ff9999', iat: y9999, exp: y9999 + 3600, ...over })));
      expect(t.store.clock.timeFloor()).toBe(T - 60_000);
      expect(floorAlarms(t)).toMatchObject([
        {
          dev: LOCK,
          data: expect.objectContaining({
            alarm: 'time_floor_jump_refused',
            source: 'pass',
            pass_id: 'ff9999',
            iat: '9999-01-01T00:00:00.000Z',
            limit: new Date(T + 30 * 60_000).toISOString(),
          }),
        },
      ]);
      expect(JSON.stringify(floorAlarms(t))).not.toContain('PT1:');
      expect(svc.decide(req(pass({ id: 'ff0001' })))).toMatchObject({ granted: true, reason: 'ok' });
      // a second jump within 10 min is held back and counted in the next alarm, not one alarm per scan
      svc.decide(req(pass({ id: 'ff9998', iat: y9999, exp: y9999 + 3600 })));
      expect(floorAlarms(t)).toHaveLength(1);
    },
  );

  it('lets a pass good for this lock raise the floor up to 30 min beyond the best known time, and no further', () => {
    const { svc, t } = setup({ startMs: T, synced: false, floorMs: T });
    svc.decide(req(pass({ id: 'st01', iat: NOW + 29 * 60, exp: NOW + 3 * 3600 })));
    expect(t.store.clock.timeFloor()).toBe(T + 29 * 60_000);
    // not good here: another lock's pass, or one whose iat is after its exp, moves nothing
    svc.decide(req(pass({ id: 'st02', aud: 'door-elsewhere', iat: NOW + 40 * 60, exp: NOW + 3 * 3600 })));
    expect(t.store.clock.timeFloor()).toBe(T + 29 * 60_000);
    // the wall clock still says T; the best known time is the floor: 31 min beyond it is refused
    svc.decide(req(pass({ id: 'st03', iat: NOW + 60 * 60, exp: NOW + 3 * 3600 })));
    expect(t.store.clock.timeFloor()).toBe(T + 29 * 60_000);
    expect(floorAlarms(t)).toHaveLength(1);
  });

  it('on a gateway whose wall clock is in 1970 and that never knew the time, a pass cannot set the floor', () => {
    const { svc, t } = setup({ startMs: 0, synced: false });
    expect(svc.decide(req(pass({ id: 'gh01', iat: NOW })))).toMatchObject({ reason: 'time_unknown' });
    expect(t.store.clock.timeFloor()).toBe(0);
    expect(floorAlarms(t)).toHaveLength(1);
  });

  it('lets a door whose rule is allow judge on the wall clock when the time is unknown', () => {
    const { svc } = setup({ startMs: T, synced: false });
    // no iat: nothing raises the floor, the time stays unknown
    const noIat = (cti: number) =>
      forgeCose({ key, payload: cwtPayload({ aud: LOCK, exp: NOW + 3600, cti: new Uint8Array([cti]) }) });
    expect(svc.decide(req(noIat(1), { timeUnknownPolicy: 'allow' })).granted).toBe(true);
    expect(svc.decide(req(noIat(2)))).toMatchObject({ reason: 'time_unknown' });
  });

  it('does not let an issuer with a fast clock push a synced gateway into the future', () => {
    const { svc, t } = setup();
    svc.decide(req(pass({ id: 'ii01', iat: NOW + 365 * DAY, exp: NOW + 366 * DAY })));
    expect(t.store.clock.timeFloor()).toBe(T);
  });
});

describe('PIN and card credentials', () => {
  it('opens for a valid code, once for a one-time code, and spends the guess budget on wrong codes', () => {
    const { svc, t } = setup();
    const secret = svc.pins.setSecret(LOCK);
    const pin = (value: string) => svc.decide({ lock: LOCK, credential: { kind: 'pin', value } });
    const dur = pinCode(secret, LOCK, pinSlot(NOW, 24, false), 8);
    const once = pinCode(secret, LOCK, pinSlot(NOW, 4, true), 8);
    expect(pin(dur)).toMatchObject({ granted: true, passId: `pin:${LOCK}:${NOW}:24:dur` });
    expect(pin(dur).granted).toBe(true);
    expect(pin(once).granted).toBe(true);
    expect(pin(once)).toMatchObject({ granted: false, reason: 'uses_exhausted' });
    // any other length than the lock's is malformed and costs no guess: the 6-digit tail of a good code included
    expect(pin('12')).toMatchObject({ reason: 'malformed' });
    expect(pin(dur.slice(2))).toMatchObject({
      reason: 'malformed',
      event: { data: { detail: 'this keypad takes 8 digits' } },
    });
    for (let i = 1; i < 10; i++) expect(pin('00000000').event.data).toMatchObject({ failures: i, locked_ms: 0 });
    // the tenth wrong code spends the burst: the next guess is due in 4 h (GUESS_BUDGETS[8])
    expect(pin('00000000')).toMatchObject({
      reason: 'wrong_code',
      event: { data: { failures: 10, locked_ms: 4 * 3600_000 } },
    });
    // locked out: even the right code is refused without being checked
    expect(pin(dur)).toMatchObject({ granted: false, reason: 'locked_out' });
    t.wall.ms += 4 * 3600_000;
    expect(pin(dur).granted).toBe(true);
    // a good code does not refill the budget: the next wrong code locks for another 4 h
    expect(pin('00000000').event.data).toMatchObject({ failures: 1, locked_ms: 4 * 3600_000 });
    t.wall.ms += 4 * 3600_000;
    svc.revocations.revoke('pass', `pin:${LOCK}:${NOW}:24:dur`);
    expect(pin(dur).reason).toBe('revoked');
  });

  it("takes exactly the lock's pin_length", () => {
    const { svc } = setup();
    const secret = svc.pins.setSecret(LOCK);
    const code10 = pinCode(secret, LOCK, pinSlot(NOW, 24, false), 10);
    const at = (value: string, pinLength?: number) =>
      svc.decide({ lock: LOCK, credential: { kind: 'pin', value }, ...(pinLength ? { pinLength } : {}) }).reason;
    expect(at(code10, 10)).toBe('ok');
    expect(at(code10.slice(2), 10)).toBe('malformed');
    expect(at(code10.slice(2))).toBe('ok'); // the same slot's 8-digit code, at a lock of 8
    expect(at(code10)).toBe('malformed');
  });

  it('keeps the keypad lock-out across a restart', () => {
    const { svc, t } = setup();
    svc.pins.setSecret(LOCK);
    for (let i = 0; i < 10; i++) svc.decide({ lock: LOCK, credential: { kind: 'pin', value: '11111111' } });
    t.store.close();
    const svc2 = new AccessService({ store: t.reopen() });
    expect(svc2.decide({ lock: LOCK, credential: { kind: 'pin', value: '11111111' } }).reason).toBe('locked_out');
  });

  it('opens for a listed card at its locks only', () => {
    const { svc } = setup();
    svc.cards.put({ card: '0CA01F6', aud: ['group:toilets'], sub: 'cleaner-3', exp: NOW + DAY });
    const card = (value: string, lockGroups: string[] = ['toilets']) =>
      svc.decide({ lock: LOCK, lockGroups, credential: { kind: 'card', value } });
    expect(card('0CA01F6')).toMatchObject({ granted: true, passId: 'card:0CA01F6' });
    expect(card('0CA01F6', [])).toMatchObject({ reason: 'wrong_lock' });
    expect(card('1FFFFFF')).toMatchObject({ reason: 'unknown_card' });
    svc.revocations.revoke('sub', 'cleaner-3');
    expect(card('0CA01F6')).toMatchObject({ reason: 'revoked' });
  });
});
