import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** Several real processes starting at once on a fresh state directory must end up with one shared token. */

const here = fileURLToPath(new URL('.', import.meta.url));
const LOADER = join(here, 'fixtures', 'ts-loader.mjs');
const CHILD = join(here, 'fixtures', 'token-child.ts');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-token-race-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function startOne(stateDir: string): Promise<{ token: string; created: boolean }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', LOADER, CHILD, stateDir], (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { token: string; created: boolean });
    });
  });
}

describe('admin token creation by concurrent processes', () => {
  it('gives every process the same token, created by exactly one of them, in one 0600 file', async () => {
    const stateDir = join(dir, 'state');
    const results = await Promise.all([1, 2, 3, 4].map(() => startOne(stateDir)));
    const tokens = new Set(results.map((r) => r.token));
    expect(tokens.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const path = join(stateDir, 'admin-token');
    expect(readFileSync(path, 'utf8')).toBe(`${results[0]!.token}\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(stateDir)).toEqual(['admin-token']);
  });
});
