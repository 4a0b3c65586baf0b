import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCard } from '../../../devices/readers/wiegand-codec.js';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { WiegandReaderStub } from '../../../firmware-stubs/wiegand-reader.js';
import { pinCode, pinSlot } from '../../../src/access/pin.js';
import type { PortierEvent } from '../../../src/core/events.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * Cards and PINs through a Wiegand reader on simulated GPIO, decided by the access service and opening a GPIO relay
 * strike. The stub runs in this process, so every pulse is read before the next one (see firmware-stubs/wiegand-reader.ts).
 */
describe('Wiegand reader and keypad to relay', () => {
  let tg: TestGateway;
  let door: GpioDoorStub;
  let reader: WiegandReaderStub;
  let keypad4: WiegandReaderStub;
  let secret: Buffer;
  const decisions = () => tg.events.filter((e) => e.type === 'access.decision');

  beforeAll(async () => {
    const dir = tempDir('portier-wiegand-');
    const gpioDir = join(dir, 'gpio');
    mkdirSync(gpioDir);
    door = new GpioDoorStub({ dir: gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    reader = new WiegandReaderStub({ dir: gpioDir, d0Line: 5, d1Line: 6, bitIntervalMs: 4, framePauseMs: 200 });
    keypad4 = new WiegandReaderStub({ dir: gpioDir, d0Line: 12, d1Line: 13, bitIntervalMs: 4, framePauseMs: 200 });
    await Promise.all([door.start(), reader.start(), keypad4.start()]);
    tg = await startTestGateway({
      dir,
      gpioDir,
      devices: [
        {
          id: 'service-room',
          driver: 'gpio-relay-lock',
          settings: { relay_pin: 17, contact_pin: 27, open_time_ms: 500 },
        },
        {
          id: 'wiegand',
          driver: 'wiegand-reader',
          settings: { d0_pin: 5, d1_pin: 6, lock: 'service-room', frame_gap_ms: 40 },
        },
        {
          id: 'keypad-4bit',
          driver: 'wiegand-reader',
          settings: { d0_pin: 12, d1_pin: 13, lock: 'service-room', frame_gap_ms: 40, formats: [26] },
        },
      ],
    });
    const access = tg.gateway.access.service;
    access.cards.put({ card: '0CA01F6', aud: ['service-room'], sub: 'caretaker-1' });
    access.cards.put({ card: '104D2DF0AB', aud: ['service-room'] });
    secret = access.pins.setSecret('service-room');
  });

  afterAll(async () => {
    await tg?.gateway.stop();
    await Promise.all([door?.stop(), reader?.stop(), keypad4?.stop()]);
  });

  async function next(action: () => Promise<void>): Promise<PortierEvent> {
    const before = decisions().length;
    await action();
    return eventually(() => decisions()[before], 10_000, 'a decision');
  }

  async function opensAndRelocks(): Promise<void> {
    await eventually(() => door.relay() === 1, 5000, 'relay energized');
    await eventually(() => door.relay() === 0, 5000, 'relocked');
  }

  it('opens for a listed 26-bit card (facility 101, card 251 = 0CA01F6), and not for an unlisted one', async () => {
    const granted = await next(() => reader.card(26, 101, 251));
    expect(granted.data).toMatchObject({
      credential: 'card',
      granted: true,
      pass_id: 'card:0CA01F6',
      reader: 'wiegand',
    });
    expect(JSON.stringify(granted)).not.toContain('caretaker-1');
    await opensAndRelocks();
    const denied = await next(() => reader.card(26, 101, 252));
    expect(denied.data).toMatchObject({ credential: 'card', granted: false, reason: 'unknown_card' });
    expect(door.relay()).toBe(0);
  });

  it('reads 37-bit H10304 cards, and a reader set to 26 bits refuses them as bad_length', async () => {
    expect((await next(() => reader.card(37, 1234, 456789))).data).toMatchObject({
      granted: true,
      pass_id: 'card:104D2DF0AB',
    });
    await opensAndRelocks();
    const host = tg.gateway.hosts.get('keypad-4bit')!;
    await keypad4.card(37, 1234, 456789);
    await eventually(() => (host.rejected.get('bad_length') ?? 0) > 0, 5000, 'bad_length counted');
  });

  it('counts a frame with a parity error, presents nothing, and reads the next card', async () => {
    const host = tg.gateway.hosts.get('wiegand')!;
    const before = decisions().length;
    const bad = encodeCard(26, 101, 251);
    bad[25] = bad[25] === 1 ? 0 : 1;
    await reader.send(bad);
    await eventually(() => (host.rejected.get('parity_error') ?? 0) > 0, 5000, 'parity error counted');
    expect(decisions().length).toBe(before);
    expect((await next(() => reader.card(26, 101, 251))).data.granted).toBe(true);
    await opensAndRelocks();
  });

  it('opens for an offline PIN typed on an 8-bit keypad; * clears a wrong start', async () => {
    const code = pinCode(secret, 'service-room', pinSlot(Math.floor(Date.now() / 1000), 24, false), 8);
    const granted = await next(() => reader.keys(`99*${code}#`));
    expect(granted.data).toMatchObject({ credential: 'pin', granted: true, reader: 'wiegand' });
    expect(JSON.stringify(granted)).not.toContain(code);
    await opensAndRelocks();
  });

  it('opens for a one-time PIN on a 4-bit keypad once, then refuses it as used', async () => {
    const code = pinCode(secret, 'service-room', pinSlot(Math.floor(Date.now() / 1000), 4, true), 6);
    expect((await next(() => keypad4.keys(`${code}#`, 4))).data).toMatchObject({
      granted: true,
      reader: 'keypad-4bit',
    });
    await opensAndRelocks();
    expect((await next(() => keypad4.keys(`${code}#`, 4))).data).toMatchObject({
      granted: false,
      reason: 'uses_exhausted',
    });
  });

  it('locks the keypad out after repeated wrong codes, even for the right code', async () => {
    const wrong = async () => (await next(() => reader.keys('00000000#'))).data;
    for (let i = 0; i < 4; i++) expect(await wrong()).toMatchObject({ granted: false, reason: 'wrong_code' });
    // The fifth wrong code starts the lock-out (src/store/pin-store.ts: 5 free tries, then 30 s doubling).
    expect(await wrong()).toMatchObject({ reason: 'wrong_code', failures: 5 });
    const code = pinCode(secret, 'service-room', pinSlot(Math.floor(Date.now() / 1000), 24, false), 8);
    expect((await next(() => reader.keys(`${code}#`))).data).toMatchObject({ granted: false, reason: 'locked_out' });
    expect(door.relay()).toBe(0);
  });
});
