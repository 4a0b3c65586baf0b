import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { candidateSlots, pinCode, pinSlot } from '../../../src/access/pin.js';
import { AccessService } from '../../../src/access/service.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';

const LOCK = 'toilet-1';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** docs/pins.md's promise for continuous guessing at one keypad */
const BOUND_24H = 1e-4;
const BOUND_30D = 1e-3;
/** The truncated HMAC is a 31-bit number; a code is that number mod 10^digits. */
const SPACE = 2 ** 31;

/**
 * The most likely code values: `number mod 10^d` takes the values below `2^31 mod 10^d` once more often than the
 * rest, so a smart guesser tries those; each matches one valid code with probability ceil(2^31 / 10^d) / 2^31.
 */
function weightOf(digits: number): { perCode: number; likelyBelow: number } {
  const mod = 10 ** digits;
  return { perCode: Math.ceil(SPACE / mod) / SPACE, likelyBelow: SPACE % mod || mod };
}

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) {
    s.close();
    rmSync(dirname(s.db.name), { recursive: true, force: true });
  }
});

/**
 * Issue 9, point 3: a guesser types codes at one keypad for 30 days, as fast as the gateway takes them (1 s each),
 * against the real AccessService (real SQLite, the lock-out state it persists) on a simulated clock. A decision
 * answered `locked_out` is not a guess: the guesser waits the `locked_ms` it was told. The chance of getting in is
 * the sum over the guesses the gateway took of (codes valid at that moment) x (probability of the likeliest value):
 * an upper bound on any guessing strategy's chance with that many guesses.
 */
function simulate(digits: number) {
  const start = Date.UTC(2026, 0, 5, 0, 0, 0);
  const wall = { ms: start };
  const store = openStore({
    // tmpfs where there is one: thousands of synchronous=FULL commits cost fsyncs, not what is measured here
    stateDir: existsSync('/dev/shm') ? mkdtempSync('/dev/shm/portier-guess-') : tempDir('portier-guess-'),
    gatewayId: 'gw-guess',
    log: silentLogger(),
    clock: { wall: () => wall.ms, isSynced: () => true, hasRtc: () => false },
  });
  stores.push(store);
  const svc = new AccessService({ store });
  const secret = svc.pins.setSecret(LOCK);
  const { perCode, likelyBelow } = weightOf(digits);
  let guesses = 0;
  let successes = 0;
  let chance = 0;
  let chance24h = 0;
  let guesses24h = 0;
  let lockedOut = 0;
  for (let n = 0; wall.ms < start + 30 * DAY_MS; n++) {
    const value = String((n * 7_919 + 13) % likelyBelow).padStart(digits, '0');
    const nowS = Math.floor(wall.ms / 1000);
    const valid = candidateSlots(nowS).length;
    const d = svc.decide({ lock: LOCK, pinLength: digits, credential: { kind: 'pin', value }, reader: 'keypad' });
    if (d.reason === 'locked_out') {
      lockedOut++;
      wall.ms += d.event.data.locked_ms as number;
      continue;
    }
    expect(['wrong_code', 'ok']).toContain(d.reason);
    guesses++;
    if (d.granted) successes++;
    chance += valid * perCode;
    if (wall.ms < start + DAY_MS) {
      chance24h = chance;
      guesses24h = guesses;
    }
    wall.ms += 1000;
  }
  // the keypad still opens for the holder of a real code once the guesser's wait is over
  const real = pinCode(secret, LOCK, pinSlot(Math.floor(wall.ms / 1000), 24, false), digits);
  wall.ms += HOUR_MS * 4;
  const holder = svc.decide({ lock: LOCK, pinLength: digits, credential: { kind: 'pin', value: real } });
  return { guesses, guesses24h, successes, chance, chance24h, lockedOut, holder: holder.reason };
}

describe('guessing offline PIN codes at one keypad (docs/pins.md)', () => {
  it.each([8, 9, 10])(
    'with %i-digit codes: at most 0.01 percent in 24 h and 0.1 percent in 30 days',
    (digits) => {
      const r = simulate(digits);
      console.log(
        `${digits} digits: ${r.guesses24h} guesses in 24 h -> ${(r.chance24h * 100).toFixed(5)} %; ` +
          `${r.guesses} guesses in 30 days -> ${(r.chance * 100).toFixed(4)} %; ` +
          `${r.lockedOut} locked_out answers; ${r.successes} successes`,
      );
      expect(r.chance24h).toBeLessThanOrEqual(BOUND_24H);
      expect(r.chance).toBeLessThanOrEqual(BOUND_30D);
      expect(r.guesses24h).toBeGreaterThan(0);
      expect(r.holder).toBe('ok');
    },
    120_000,
  );
});
