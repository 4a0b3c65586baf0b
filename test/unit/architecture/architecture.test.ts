import { describe, expect, it } from 'vitest';
import {
  importCycles,
  importsInto,
  importsLeaving,
  moduleState,
  packagesUsed,
  readTree,
  type SourceFile,
  sqlOutside,
} from './house-rules.js';

/**
 * The floors of docs/architecture.md, checked on the source text (run by `npm test`, hence by `npm run check`):
 * core imports nothing of ours; only the CLI and the demo import the composition root (src/app/); only src/store/
 * speaks SQL; no import cycle; drivers keep no module-level state and reach wires only through their context.
 */
const root = process.cwd();
const files = readTree(root, ['src', 'devices', 'firmware-stubs']);
/** The gateway's own code; the firmware stubs are test doubles of devices and only join the cycle check. */
const ours = files.filter((f) => !f.path.startsWith('firmware-stubs/'));

/** Pure modules of the transports that a codec may use (formats, no sockets). */
const PURE_TRANSPORTS = ['src/transports/mqtt-topic.ts', 'src/transports/coap-message.ts'];
/** Packages that open a wire; a driver gets its wires from its context instead. */
const WIRE_PACKAGES = [
  'node:dgram',
  'node:net',
  'node:http',
  'node:https',
  'node:tls',
  'node:child_process',
  'serialport',
  'mqtt',
  'onoff',
  'node-coap-client',
  'fastify',
];

describe('house rules', () => {
  it('finds the project (a wrong root would pass every rule)', () => {
    expect(ours.length).toBeGreaterThan(150);
    expect(ours.some((f) => f.path === 'src/core/driver.ts')).toBe(true);
    const driver = ours.find((f) => f.path === 'devices/index.ts') as SourceFile;
    expect(driver.imports.length).toBeGreaterThan(10);
  });

  it('src/core/ imports nothing else of the project', () => {
    expect(importsLeaving(ours, 'src/core')).toEqual([]);
  });

  it('only the CLI and the demo import the composition root (src/app/)', () => {
    expect(importsInto(ours, 'src/app', ['src/cli', 'src/demo'])).toEqual([]);
  });

  it('only src/store/ speaks SQL (no statements, prepare/pragma/exec or better-sqlite3 anywhere else)', () => {
    expect(sqlOutside(ours, 'src/store')).toEqual([]);
  });

  it('has no import cycle between files (type-only imports count)', () => {
    expect(importCycles(files)).toEqual([]);
  });

  it('keeps no module-level mutable state in devices/', () => {
    expect(moduleState(ours, 'devices')).toEqual([]);
  });

  it('drivers reach wires only through their context', () => {
    const reach = importsLeaving(ours, 'devices').filter((line) => {
      const to = line.split(' -> ')[1] as string;
      return !to.startsWith('src/core/') && !PURE_TRANSPORTS.includes(to);
    });
    expect([...packagesUsed(ours, 'devices', WIRE_PACKAGES), ...reach]).toEqual([]);
  });
});

describe('the checks themselves (each finds what it is for)', () => {
  const file = (path: string, text = '', imports: string[] = [], packages: string[] = []): SourceFile => ({
    path,
    text,
    imports,
    packages,
  });

  it('sees core leaving its floor and a service importing the composition root', () => {
    const tree = [
      file('src/core/bus.ts', '', ['src/store/store.ts']),
      file('src/sync/x.ts', '', ['src/app/gateway.ts']),
      file('src/cli/run.ts', '', ['src/app/gateway.ts']),
    ];
    expect(importsLeaving(tree, 'src/core')).toEqual(['src/core/bus.ts -> src/store/store.ts']);
    expect(importsInto(tree, 'src/app', ['src/cli'])).toEqual(['src/sync/x.ts -> src/app/gateway.ts']);
  });

  it('sees SQL written, prepared or imported outside the store, and not a method that merely shares a name', () => {
    const tree = [
      file('src/admin/a.ts', "const n = this.db.prepare('SELECT COUNT(*) FROM outbox').get();"),
      file('src/admin/b.ts', 'gateway.store.db.pragma(`synchronous = FULL`);'),
      file('src/admin/c.ts', '', [], ['better-sqlite3']),
      file('src/transports/coap.ts', 'const target = await this.prepare(url); // Select a peer'),
      file('src/store/ok.ts', "db.prepare('SELECT 1')"),
    ];
    const found = sqlOutside(tree, 'src/store');
    expect(found).toContain('src/admin/a.ts:1 this.db.prepare()');
    expect(found.some((l) => l.startsWith('src/admin/a.ts:1 SQL text "SELECT COUNT(*)'))).toBe(true);
    expect(found).toContain('src/admin/b.ts:1 gateway.store.db.pragma()');
    expect(found).toContain('src/admin/c.ts: imports better-sqlite3');
    expect(found.filter((l) => l.startsWith('src/transports/') || l.startsWith('src/store/'))).toEqual([]);
  });

  it('finds a cycle through three files and a type-only pair, and none in a chain', () => {
    const tree = [
      file('a.ts', '', ['b.ts']),
      file('b.ts', '', ['c.ts']),
      file('c.ts', '', ['a.ts']),
      file('d.ts', '', ['e.ts']),
      file('e.ts', '', ['d.ts']),
      file('f.ts', '', ['a.ts']),
    ];
    expect(importCycles(tree)).toEqual(['a.ts <-> b.ts <-> c.ts', 'd.ts <-> e.ts']);
    expect(importCycles([file('a.ts', '', ['b.ts']), file('b.ts', '', ['c.ts']), file('c.ts', '')])).toEqual([]);
  });

  it('tells module-level state from constant tables', () => {
    const text = [
      'const routers = new WeakMap<object, string>();',
      'let count = 0;',
      'const queue: string[] = [];',
      'const CODES = new Set([30, 2]);',
      'export const NAMES = ["a"];',
      'function f() { const local = new Map(); let x = 1; return [local, x]; }',
    ].join('\n');
    expect(moduleState([file('devices/x.ts', text)], 'devices')).toEqual([
      'devices/x.ts:1 routers (new WeakMap<object, string>())',
      'devices/x.ts:2 count (let/var)',
      'devices/x.ts:3 queue ([])',
    ]);
  });
});
