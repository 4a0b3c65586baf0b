import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ClockOptions } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { CommandJournal } from '../../../src/store/command-journal.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { type CommandAck, Downlink } from '../../../src/sync/commands/downlink.js';
import { cloudTopics } from '../../../src/sync/topics.js';
import { tempDir } from '../../helpers/tmp.js';
import {
  claims,
  makeOperators,
  type Operators,
  RecordingHandlers,
  RFC8037_JWS,
  RFC8037_KEY,
} from './command-fixtures.js';

const GW = 'gw-cmd';
const topics = cloudTopics('portier', GW);
const msg = (o: unknown) => Buffer.from(JSON.stringify(o));

interface Rig {
  store: Store;
  downlink: Downlink;
  handlers: RecordingHandlers;
  acks: CommandAck[];
  ops: Operators;
  /** deliver one message on `down/<command>` and wait until it is handled */
  send(command: string, body: unknown): Promise<CommandAck | undefined>;
  audit(): Array<{ type: string; data: Record<string, unknown> }>;
}

async function rig(opts: { keysFile?: string | null; dir?: string; clock?: ClockOptions } = {}): Promise<Rig> {
  const dir = opts.dir ?? tempDir('portier-downlink-');
  const store = openStore({
    stateDir: dir,
    gatewayId: GW,
    log: silentLogger(),
    clock: opts.clock ?? { trustSystemClock: true },
  });
  const ops = await makeOperators(dir);
  const handlers = new RecordingHandlers();
  const acks: CommandAck[] = [];
  const downlink = new Downlink({
    db: store.db,
    events: store.events,
    clock: store.clock,
    gatewayId: GW,
    topics,
    handlers,
    operatorKeysFile: opts.keysFile === null ? undefined : (opts.keysFile ?? ops.file),
    maxLifetimeS: 86_400,
    log: silentLogger(),
    publishAck: (p) => acks.push(JSON.parse(p) as CommandAck),
  });
  return {
    store,
    downlink,
    handlers,
    acks,
    ops,
    async send(command, body) {
      const before = acks.length;
      downlink.receive(`${topics.downPrefix}${command}`, typeof body === 'string' ? Buffer.from(body) : msg(body));
      await downlink.settle();
      return acks.length > before ? acks.at(-1) : undefined;
    },
    audit() {
      return store.events
        .tail(100)
        .filter((e) => e.type === 'alarm' || e.type === 'provisioning.change')
        .map((e) => ({ type: e.type, data: e.data }));
    },
  };
}

const device = { id: 'door-9', driver: 'gpio-relay-lock', relay_pin: 17 };

describe('downlink commands', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });

  it('applies a signed provision once, answers a repeat with the same ack, and audits the change', async () => {
    const jws = await r.ops.signEd(claims(GW, 'c-1', 'provision', { devices: [device] }));
    const first = await r.send('provision', { id: 'c-1', jws });
    expect(first).toEqual({ id: 'c-1', status: 'ok', data: { provisioned: 1 } });
    const again = await r.send('provision', { id: 'c-1', jws });
    expect(again).toEqual(first);
    expect(r.handlers.applied()).toEqual(['provision']);
    expect(r.handlers.calls.find((c) => c.name === 'provision')?.args).toEqual([device]);
    expect(r.audit()).toEqual([
      {
        type: 'provisioning.change',
        data: {
          source: 'cloud',
          command: 'provision',
          id: 'c-1',
          operator_kid: 'op-ed',
          status: 'applied',
          devices: ['door-9'],
        },
      },
    ]);
    // Audit records are critical: durable and never shed.
    const lane = r.store.db.prepare(
      "SELECT o.lane FROM outbox o JOIN events e ON e.seq = o.seq WHERE e.type = 'provisioning.change'",
    );
    expect(lane.pluck().get()).toBe(0);
  });

  it('takes the command from the signed payload, never from the unsigned envelope', async () => {
    const jws = await r.ops.signEs(claims(GW, 'c-2', 'provision', { devices: [device] }));
    const evil = { id: 'evil', driver: 'gpio-relay-lock', relay_pin: 4 };
    const ack = await r.send('provision', { id: 'c-2', jws, devices: [evil] });
    expect(ack?.status).toBe('ok');
    expect(r.handlers.calls.find((c) => c.name === 'provision')?.args).toEqual([device]);
  });

  it.each([
    ['unsigned', async (_o: Operators) => ({ id: 'x', devices: [device] })],
    [
      'bad_signature',
      async (o: Operators) => ({
        id: 'x',
        jws: tamper(await o.signEd(claims(GW, 'x', 'provision', { devices: [device] }))),
      }),
    ],
    [
      'unknown_key',
      async (o: Operators) => ({
        id: 'x',
        jws: await o.signEd(claims(GW, 'x', 'provision', { devices: [device] }), { kid: 'nobody' }),
      }),
    ],
    [
      'bad_signature',
      async (o: Operators) => ({
        id: 'x',
        jws: await o.signStranger(claims(GW, 'x', 'provision', { devices: [device] })),
      }),
    ],
    [
      'wrong_audience',
      async (o: Operators) => ({
        id: 'x',
        jws: await o.signEd(claims('gw-other', 'x', 'provision', { devices: [device] })),
      }),
    ],
    [
      'expired',
      async (o: Operators) => ({
        id: 'x',
        jws: await o.signEd(claims(GW, 'x', 'provision', { devices: [device] }, Date.now() / 1000 - 7200)),
      }),
    ],
    [
      'not_yet_valid',
      async (o: Operators) => ({
        id: 'x',
        jws: await o.signEd(claims(GW, 'x', 'provision', { devices: [device] }, Date.now() / 1000 + 7200)),
      }),
    ],
    [
      'lifetime_too_long',
      async (o: Operators) => ({
        id: 'x',
        jws: await o.signEd({
          ...claims(GW, 'x', 'provision', { devices: [device] }),
          exp: Math.floor(Date.now() / 1000) + 30 * 86_400,
        }),
      }),
    ],
    [
      'mismatch',
      async (o: Operators) => ({
        id: 'x',
        jws: await o.signEd(claims(GW, 'x', 'revoke', { entries: [{ kind: 'pass', value: 'p' }] })),
      }),
    ],
    [
      'mismatch',
      async (o: Operators) => ({
        id: 'x',
        jws: await o.signEd(claims(GW, 'other-id', 'provision', { devices: [device] })),
      }),
    ],
  ])('refuses a provision that is %s, audits it as an alarm, applies nothing', async (reason, make) => {
    const body = await make(r.ops);
    const ack = await r.send('provision', body);
    expect(ack).toMatchObject({ id: 'x', status: 'error', error: reason });
    expect(r.handlers.calls).toEqual([]);
    const [alarm] = r.audit();
    expect(alarm).toMatchObject({
      type: 'alarm',
      data: { alarm: 'command_refused', command: 'provision', id: 'x', reason },
    });
  });

  it('checks the operator signature with the JOSE library on RFC 8037 A.4 (valid signature, not a command)', async () => {
    // The key set has one Ed25519 key matching the JWS's header (no kid): the signature verifies, the payload is
    // "Example of Ed25519 signing", which is no command.
    const dir = tempDir('portier-downlink-');
    const { d: _d, ...pub } = RFC8037_KEY;
    const file = join(dir, 'one.jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...pub, kid: 'rfc', alg: 'EdDSA' }] }));
    const one = await rig({ keysFile: file, dir });
    expect(await one.send('revoke', { id: 'v-1', jws: RFC8037_JWS })).toMatchObject({ error: 'malformed' });
    expect(await one.send('revoke', { id: 'v-2', jws: tamper(RFC8037_JWS) })).toMatchObject({ error: 'bad_signature' });
  });

  it('without a time source, judges a command by the time floor and lets its verified iat raise the floor', async () => {
    const behind = Date.parse('2021-01-01T00:00:00Z');
    const lost = await rig({ clock: { wall: () => behind, isSynced: () => false, hasRtc: () => false } });
    const nowS = Date.now() / 1000;
    const fresh = await lost.ops.signEd(claims(GW, 't-1', 'remove-device', { device: 'door-9' }, nowS));
    expect(await lost.send('remove-device', { id: 't-1', jws: fresh })).toEqual({ id: 't-1', status: 'ok' });
    expect(lost.store.clock.timeFloor()).toBe(Math.floor(nowS) * 1000);
    expect(lost.store.clock.now().tq).toBe('floor');
    // Signed three hours ago for one hour: expired before what the gateway now knows is the time.
    const stale = await lost.ops.signEd(claims(GW, 't-2', 'remove-device', { device: 'door-9' }, nowS - 3 * 3600));
    expect(await lost.send('remove-device', { id: 't-2', jws: stale })).toMatchObject({ error: 'expired' });
  });

  it('refuses signed commands when no operator key file is configured, or when it holds a private key', async () => {
    const none = await rig({ keysFile: null });
    const jws = await none.ops.signEd(claims(GW, 'k-1', 'remove-device', { device: 'door-9' }));
    expect(await none.send('remove-device', { id: 'k-1', jws })).toMatchObject({ error: 'no_operator_keys' });
    const dir = tempDir('portier-downlink-');
    const file = join(dir, 'leaky.jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...RFC8037_KEY, kid: 'op-ed', alg: 'EdDSA' }] }));
    const leaky = await rig({ keysFile: file, dir });
    const jws2 = await leaky.ops.signEd(claims(GW, 'k-2', 'remove-device', { device: 'door-9' }));
    const ack = await leaky.send('remove-device', { id: 'k-2', jws: jws2 });
    expect(ack).toMatchObject({ error: 'no_operator_keys' });
    expect(ack?.detail).toMatch(/private key/);
    expect(leaky.handlers.calls).toEqual([]);
  });

  it('refuses a bad config bundle whole, before anything is applied, and leaves the outbox alone', async () => {
    for (let i = 0; i < 50; i++) r.store.events.record({ dev: 'w', type: 'weather.reading', data: { i } });
    r.store.events.flush();
    const backlog = () =>
      (r.store.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE lane = 2').get() as { n: number }).n;
    r.handlers.configProblems = ['devices[2].relay_pin: expected a BCM line 0-27', 'cloud.url: expected an MQTT URL'];
    const bundle = { version: 1, gateway: { id: GW }, devices: [] };
    const ack = await r.send('set-config', {
      id: 's-1',
      jws: await r.ops.signEd(claims(GW, 's-1', 'set-config', { bundle })),
    });
    expect(ack).toMatchObject({ id: 's-1', status: 'error', error: 'invalid' });
    expect(ack?.detail).toContain('devices[2].relay_pin');
    expect(ack?.detail).toContain('cloud.url');
    expect(r.handlers.applied()).toEqual([]);
    expect(r.audit()).toMatchObject([
      { type: 'provisioning.change', data: { command: 'set-config', status: 'refused' } },
    ]);

    r.handlers.configProblems = [];
    const ok = await r.send('set-config', {
      id: 's-2',
      jws: await r.ops.signEd(claims(GW, 's-2', 'set-config', { bundle })),
    });
    expect(ok).toEqual({ id: 's-2', status: 'ok' });
    expect(r.handlers.applied()).toEqual(['setConfig']);
    expect(backlog()).toBe(50);
  });

  it('provisions a list of devices all or none', async () => {
    r.handlers.deviceProblems = ['devices[1] (bay-x): unknown driver "nope"'];
    const devices = [device, { id: 'bay-x', driver: 'nope' }];
    const ack = await r.send('provision', {
      id: 'p-1',
      jws: await r.ops.signEd(claims(GW, 'p-1', 'provision', { devices })),
    });
    expect(ack).toMatchObject({ status: 'error', error: 'invalid' });
    expect(r.handlers.applied()).toEqual([]);
  });

  it('refuses issuer keys with a private part or that do not parse, before the handler sees them', async () => {
    const withPrivate = { keys: [{ ...RFC8037_KEY, kid: 'iss-1', alg: 'EdDSA' }] };
    const a = await r.send('import-keys', {
      id: 'i-1',
      jws: await r.ops.signEd(claims(GW, 'i-1', 'import-keys', { keys: withPrivate })),
    });
    expect(a).toMatchObject({ status: 'error', error: 'invalid' });
    const broken = { keys: [{ kty: 'EC', crv: 'P-256', kid: 'iss-2', alg: 'ES256', x: 'AAAA', y: 'AAAA' }] };
    const b = await r.send('import-keys', {
      id: 'i-2',
      jws: await r.ops.signEd(claims(GW, 'i-2', 'import-keys', { keys: broken })),
    });
    expect(b).toMatchObject({ status: 'error', error: 'invalid' });
    expect(r.handlers.applied()).toEqual([]);
    const { d: _d, ...pub } = RFC8037_KEY;
    const good = { keys: [{ ...pub, kid: 'iss-3', alg: 'EdDSA' }] };
    const c = await r.send('import-keys', {
      id: 'i-3',
      jws: await r.ops.signEd(claims(GW, 'i-3', 'import-keys', { keys: good, replace: true })),
    });
    expect(c).toEqual({ id: 'i-3', status: 'ok' });
    expect(r.handlers.calls.at(-1)).toEqual({ name: 'importKeys', args: { jwks: good, replace: true } });
  });

  it('revokes passes and holders, and replaces the whole revocation list, when signed', async () => {
    const entries = [
      { kind: 'pass', value: 'pass-42', reason: 'lost' },
      { kind: 'sub', value: 'h-7f3a' },
    ];
    const a = await r.send('revoke', { id: 'r-1', jws: await r.ops.signEd(claims(GW, 'r-1', 'revoke', { entries })) });
    expect(a).toEqual({ id: 'r-1', status: 'ok' });
    const list = { version: 12, passes: ['pass-1', 'pass-2'], subjects: ['h-1'] };
    const b = await r.send('revocation-list', {
      id: 'r-2',
      jws: await r.ops.signEs(claims(GW, 'r-2', 'revocation-list', { list })),
    });
    expect(b).toEqual({ id: 'r-2', status: 'ok', data: { applied: true } });
    expect(r.handlers.calls).toEqual([
      { name: 'revoke', args: entries },
      { name: 'replaceRevocations', args: list },
    ]);
    expect(r.audit().map((e) => e.data)).toMatchObject([
      { command: 'revoke', status: 'applied', entries: 2 },
      { command: 'revocation-list', status: 'applied', version: 12, passes: 2, subjects: 1 },
    ]);
    const bad = await r.send('revoke', {
      id: 'r-3',
      jws: await r.ops.signEd(claims(GW, 'r-3', 'revoke', { entries: [{ kind: 'key', value: 'k' }] })),
    });
    expect(bad).toMatchObject({ status: 'error', error: 'invalid' });
  });

  it('opens with a pass without an operator signature, and reports a denial as an error', async () => {
    expect(await r.send('open', { id: 'o-1', lock: 'door-1', pass: 'PT1:ABC' })).toEqual({
      id: 'o-1',
      status: 'ok',
      data: { granted: true, reason: 'granted' },
    });
    r.handlers.grant = false;
    expect(await r.send('open', { id: 'o-2', lock: 'door-1', pass: 'PT1:ABC' })).toMatchObject({
      status: 'error',
      error: 'denied',
      detail: 'expired',
    });
  });

  it('answers unknown commands and malformed messages with a clear error and keeps going', async () => {
    expect(await r.send('reboot', { id: 'u-1' })).toMatchObject({
      id: 'u-1',
      status: 'error',
      error: 'unknown_command',
    });
    expect(await r.send('open', '{not json')).toMatchObject({ id: null, status: 'error', error: 'malformed' });
    expect(await r.send('open', { lock: 'door-1' })).toMatchObject({ id: null, error: 'malformed' });
    expect(await r.send('open', { id: 'o-3', lock: 'Door 1!', pass: 'x' })).toMatchObject({
      id: 'o-3',
      error: 'invalid',
    });
    expect(await r.send('open', { id: 'o-4', lock: 'door-1', pass: 'x' })).toMatchObject({ status: 'ok' });
  });

  it('does not open twice after a crash between receipt and answer', async () => {
    const dir = tempDir('portier-downlink-');
    const before = await rig({ dir });
    new CommandJournal(before.store.db).begin('o-9', 'open', Date.now());
    before.store.close();
    const after = await rig({ dir });
    const ack = await after.send('open', { id: 'o-9', lock: 'door-1', pass: 'PT1:ABC' });
    expect(ack).toMatchObject({ id: 'o-9', status: 'error', error: 'interrupted' });
    expect(after.handlers.calls).toEqual([]);
  });
});

/** Change one character in the signature part of a compact JWS. */
function tamper(jws: string): string {
  const i = jws.length - 5;
  const c = jws[i] === 'A' ? 'B' : 'A';
  return jws.slice(0, i) + c + jws.slice(i + 1);
}
