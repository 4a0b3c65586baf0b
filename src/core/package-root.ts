import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding Portier's package.json, found from this file whether it runs from src/ or dist/. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'config'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package root above ${from}`);
    dir = up;
  }
  return dir;
}

/** Portier's version, from its package.json. */
export function portierVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
