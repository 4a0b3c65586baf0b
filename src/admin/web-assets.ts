import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { STATEFUL_EVENT_TYPES } from '../core/events.js';
import { packageRoot } from '../core/package-root.js';

/** Where the dashboard's files are: src/admin/web in the package (dist/ holds only compiled TypeScript). */
export function webRoot(): string {
  return join(packageRoot(), 'src', 'admin', 'web');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

/** bytes: the dashboard is a handful of small files; anything bigger in the folder is not ours */
const MAX_FILE_BYTES = 1_048_576;

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The dashboard's files, read once at start into memory: the Pi's SD card is not touched per request, and the
 * URL space is exactly the files found (no path is ever joined from a request, so no traversal).
 */
export function loadAssets(dir = webRoot()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (sub: string): void => {
    for (const name of readdirSync(join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      const full = join(dir, rel);
      const st = statSync(full);
      if (st.isDirectory()) walk(rel);
      else {
        const type = TYPES[extname(name)];
        if (!type || st.size > MAX_FILE_BYTES) continue;
        const body = readFileSync(full);
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
        assets.set(rel, { body, type, etag });
      }
    }
  };
  // A package without its web folder still runs its API; `/` then says the dashboard is not installed.
  if (existsSync(dir)) walk('');
  if (assets.size > 0) {
    // The dashboard's list of stateful event types, from the one in src/core/events.ts (no build step there).
    const body = Buffer.from(`export const STATE_TYPES = new Set(${JSON.stringify(STATEFUL_EVENT_TYPES)});\n`);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set('state-types.js', { body, type: TYPES['.js'] as string, etag });
  }
  return assets;
}
