import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isNativeAccelerationEnabled } from 'cbor-x';
import { describe, expect, it } from 'vitest';

/**
 * No dependency is swapped for another package. An `overrides` entry that maps a package to an empty one
 * (`npm:@favware/skip-dependency`) once replaced cbor-extract: cbor-x took its native string path with nothing
 * behind it, and every CWT with a text of 32 bytes or more was refused. See docs/architecture.md (Dependencies).
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;
const pkg = readJson('package.json');
const lock = readJson('package-lock.json') as { packages: Record<string, Record<string, unknown>> };

/** Every override spec, nested ones included, as "path: spec". */
function overrideSpecs(tree: unknown, path: string[] = []): string[] {
  if (typeof tree === 'string') return [`${path.join(' > ')}: ${tree}`];
  if (typeof tree !== 'object' || tree === null) return [];
  return Object.entries(tree).flatMap(([name, sub]) => overrideSpecs(sub, name === '.' ? path : [...path, name]));
}

/** The package name a lock entry's folder says it is (`node_modules/a/node_modules/@s/b` → `@s/b`). */
const folderName = (loc: string) => loc.slice(loc.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('dependencies are the packages they claim to be', () => {
  it('package.json has no override that puts another package in a dependency’s place', () => {
    // an `npm:` alias installs a different package under the dependency's name; a version pin would be a real fix
    const aliases = overrideSpecs(pkg.overrides ?? {}).filter((s) => /:\s*npm:/.test(s));
    expect(aliases).toEqual([]);
    const specs = overrideSpecs(pkg.overrides ?? {}).join('\n');
    expect(specs).not.toMatch(/skip-dependency|empty-npm-package|noop/);
  });

  it('the lockfile installs every package under its own name (no alias, no skip package)', () => {
    const swapped = Object.entries(lock.packages)
      .filter(([loc, meta]) => loc !== '' && typeof meta.name === 'string' && meta.name !== folderName(loc))
      .map(([loc, meta]) => `${loc} is ${String(meta.name)}`);
    expect(swapped).toEqual([]);
  });

  it('cbor-x takes its native string path only when a real cbor-extract is behind it', () => {
    const require = createRequire(join(ROOT, 'node_modules', 'cbor-x', 'package.json'));
    let extract: { extractStrings?: unknown } | undefined;
    try {
      extract = require('cbor-extract') as { extractStrings?: unknown };
    } catch {
      extract = undefined; // an optional dependency that did not build: cbor-x stays on JavaScript
    }
    expect(isNativeAccelerationEnabled).toBe(typeof extract?.extractStrings === 'function');
  });

  it('the lockfile names every optional dependency, so `npm ci` accepts it (npm/cli#9846)', () => {
    // npm >= 11.16 drops the entries of optional platform packages that were never published (node-aead-crypto's,
    // cbor-extract 2.2.3's) and then refuses its own lockfile in `npm ci`; regenerate with `npm run lockfile`.
    const missing: string[] = [];
    for (const [loc, meta] of Object.entries(lock.packages)) {
      for (const dep of Object.keys((meta.optionalDependencies as Record<string, string>) ?? {})) {
        let found = false;
        for (let at = loc; ; at = at.slice(0, Math.max(0, at.lastIndexOf('/node_modules/')))) {
          if (lock.packages[at ? `${at}/node_modules/${dep}` : `node_modules/${dep}`]) found = true;
          if (found || at === '') break;
        }
        if (!found) missing.push(`${dep} (optional for ${loc || 'the project'})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
