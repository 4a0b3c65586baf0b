import { describe, expect, it } from 'vitest';
import { edgesBetween, nextValue, parseLine } from '../../../src/transports/gpio/sim-files.js';

describe('sim GPIO line files', () => {
  it('parses a bare bit (a file written by hand) and a bit with its toggle count', () => {
    expect(parseLine('1')).toEqual({ bit: 1 });
    expect(parseLine('0\n')).toEqual({ bit: 0 });
    expect(parseLine('1 42\n')).toEqual({ bit: 1, count: 42 });
    expect(parseLine('')).toBeUndefined();
    expect(parseLine('2')).toBeUndefined();
    expect(parseLine('high')).toBeUndefined();
  });

  it('counts only real changes', () => {
    const a = nextValue(undefined, 0);
    const b = nextValue(a, 1);
    const c = nextValue(b, 1);
    const d = nextValue(c, 0);
    expect([a, b, c, d]).toEqual([
      { bit: 0, count: 0 },
      { bit: 1, count: 1 },
      { bit: 1, count: 1 },
      { bit: 0, count: 2 },
    ]);
  });

  it('replays, in order, the toggles a busy reader missed (a pulse seen only after it ended)', () => {
    expect(edgesBetween({ bit: 0, count: 4 }, { bit: 0, count: 6 })).toEqual([1, 0]);
    expect(edgesBetween({ bit: 0, count: 4 }, { bit: 1, count: 7 })).toEqual([1, 0, 1]);
    expect(edgesBetween({ bit: 1, count: 1 }, { bit: 1, count: 1 })).toEqual([]);
  });

  it('falls back to comparing values without counts, after a writer restart, or when counts disagree', () => {
    expect(edgesBetween({ bit: 0 }, { bit: 1 })).toEqual([1]);
    expect(edgesBetween({ bit: 1, count: 9 }, { bit: 0, count: 1 })).toEqual([0]);
    expect(edgesBetween({ bit: 1, count: 2 }, { bit: 1, count: 3 })).toEqual([]);
    expect(edgesBetween({ bit: 0, count: 0 }, { bit: 0, count: 1000 })).toEqual([]);
  });
});
