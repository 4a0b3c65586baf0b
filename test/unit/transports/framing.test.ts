import { describe, expect, it } from 'vitest';
import { ErrorCode, isPortierError } from '../../../src/core/errors.js';
import { createFramer, FixedFramer, LineFramer } from '../../../src/transports/framing.js';

function collect() {
  const frames: string[] = [];
  const overflows: number[] = [];
  return {
    frames,
    overflows,
    sink: { frame: (f: Buffer) => frames.push(f.toString('latin1')), overflow: (n: number) => overflows.push(n) },
  };
}

function pushAll(f: { push(b: Buffer): void }, ...parts: string[]) {
  for (const p of parts) f.push(Buffer.from(p, 'latin1'));
}

describe('LineFramer', () => {
  it('frames lines split across chunks and strips a trailing CR', () => {
    const c = collect();
    const f = new LineFramer('\n', 64, c.sink);
    pushAll(f, 'hel', 'lo\r\nwor', 'ld\n\nlast');
    expect(c.frames).toEqual(['hello', 'world', '']);
    pushAll(f, '\r', '\n');
    expect(c.frames).toEqual(['hello', 'world', '', 'last']);
    expect(c.overflows).toEqual([]);
  });

  it('finds a multi-byte delimiter that straddles two chunks', () => {
    const c = collect();
    const f = new LineFramer('END', 64, c.sink);
    pushAll(f, 'oneE', 'NDtwoEN', 'D', 'threeE', 'N', 'D');
    expect(c.frames).toEqual(['one', 'two', 'three']);
  });

  it('accepts a line of exactly maxLength (plus a CR) and drops one byte more', () => {
    const c = collect();
    const f = new LineFramer('\n', 5, c.sink);
    pushAll(f, '12345\n', '12345\r\n', '123456\n', 'ok\n');
    expect(c.frames).toEqual(['12345', '12345', 'ok']);
    expect(c.overflows).toEqual([6]);
  });

  it('drops a 10 KB line whole, reports it once with its length, and resyncs at the next delimiter', () => {
    const c = collect();
    const f = new LineFramer('\n', 256, c.sink);
    const long = 'x'.repeat(10_240);
    // In 100-byte chunks, as a slow UART delivers it, with the next good line in the same chunk as the end.
    const stream = `before\n${long}\nafter\n`;
    for (let i = 0; i < stream.length; i += 100) pushAll(f, stream.slice(i, i + 100));
    expect(c.frames).toEqual(['before', 'after']);
    expect(c.overflows).toEqual([10_240]);
  });

  it('keeps memory bounded however long the line', () => {
    const c = collect();
    const f = new LineFramer('\r\n', 128, c.sink);
    const chunk = Buffer.alloc(4096, 0x41);
    for (let i = 0; i < 256; i++) {
      f.push(chunk);
      expect(f.buffered).toBeLessThanOrEqual(128 + 2);
    }
    pushAll(f, '\r\nnext\r\n');
    expect(c.overflows).toEqual([256 * 4096]);
    expect(c.frames).toEqual(['next']);
  });

  it('reports an overflowing line cut short by reset with the length seen so far, and forgets partial lines', () => {
    const c = collect();
    const f = new LineFramer('\n', 8, c.sink);
    pushAll(f, 'abcdefghijklmnop');
    f.reset();
    pushAll(f, 'partial');
    f.reset();
    pushAll(f, 'new\n');
    expect(c.overflows).toEqual([16]);
    expect(c.frames).toEqual(['new']);
  });

  it('refuses an empty delimiter and a non-positive maxLength', () => {
    const c = collect();
    for (const make of [() => new LineFramer('', 8, c.sink), () => new LineFramer('\n', 0, c.sink)]) {
      let caught: unknown;
      try {
        make();
      } catch (err) {
        caught = err;
      }
      expect(isPortierError(caught, ErrorCode.ConfigInvalid)).toBe(true);
    }
  });
});

describe('FixedFramer and raw framing', () => {
  it('cuts frames of exactly the given length across chunk boundaries', () => {
    const c = collect();
    const f = new FixedFramer(4, c.sink);
    pushAll(f, 'ab', 'cdefg', 'hijklm');
    expect(c.frames).toEqual(['abcd', 'efgh', 'ijkl']);
    pushAll(f, 'nop');
    expect(c.frames).toEqual(['abcd', 'efgh', 'ijkl', 'mnop']);
  });

  it('passes raw chunks through unchanged', () => {
    const c = collect();
    const f = createFramer({ kind: 'raw' }, c.sink);
    pushAll(f, 'a\nb', 'c');
    expect(c.frames).toEqual(['a\nb', 'c']);
  });

  it('refuses a fixed length of zero', () => {
    expect(() => createFramer({ kind: 'fixed', length: 0 }, collect().sink)).toThrow(/length/);
  });
});
