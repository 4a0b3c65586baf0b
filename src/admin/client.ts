import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { ADMIN_TOKEN_FILE } from './auth.js';

/** Where the running daemon's admin API is and how to authenticate to it. */
export interface AdminTarget {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  token: string;
  /** CA certificate (PEM) for an admin API with TLS and its own certificate. */
  ca?: Buffer;
}

/** A refusal or failure from the admin API, with the problems by field when it validated the request. */
export class AdminClientError extends Error {
  override readonly name = 'AdminClientError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly problems: Array<{ field: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** `host:port` or a URL → a base URL without a trailing slash. */
export function adminUrl(listen: string): string {
  const text = listen.trim().replace(/\/+$/, '');
  if (/^https?:\/\//.test(text)) return text;
  // A daemon listening on every address is reached on loopback.
  return `http://${text.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`;
}

/** The token of `<stateDir>/admin-token` (or `tokenFile`), read and never created: that is the daemon's job. */
export function readAdminToken(opts: { stateDir?: string; tokenFile?: string }): string {
  const path = opts.tokenFile ?? join(opts.stateDir ?? '/var/lib/portier', ADMIN_TOKEN_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EACCES'
        ? 'permission denied: run as the portier user or with sudo'
        : code === 'ENOENT'
          ? 'not found: has the daemon started once with this state dir? (--state-dir, PORTIER_STATE_DIR)'
          : String(code);
    throw new AdminClientError(0, 'no_token', `cannot read the admin token ${path}: ${hint}`);
  }
  const token = text.trim();
  if (!/^[A-Za-z0-9_-]{32,512}$/.test(token)) {
    throw new AdminClientError(0, 'no_token', `the admin token ${path} is malformed`);
  }
  return token;
}

function open(target: AdminTarget, method: string, path: string, headers: Record<string, string>) {
  const url = new URL(path, `${target.url}/`);
  const opts = { method, headers: { ...headers, authorization: `Bearer ${target.token}` } };
  if (url.protocol === 'https:') return httpsRequest(url, target.ca ? { ...opts, ca: target.ca } : opts);
  return httpRequest(url, opts);
}

function unreachable(target: AdminTarget, err: Error): AdminClientError {
  const code = (err as NodeJS.ErrnoException).code;
  return new AdminClientError(
    0,
    'unreachable',
    `the admin API at ${target.url} did not answer (${code ?? err.message}): is the daemon running, and is --admin right?`,
  );
}

/** One request; resolves with the parsed JSON answer, rejects with AdminClientError. */
export function adminRequest(target: AdminTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = open(target, method, path, headers);
    req.setTimeout(30_000, () => req.destroy(new Error('timed out after 30 s')));
    req.on('error', (err) => reject(unreachable(target, err)));
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(unreachable(target, err)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(json);
        const e = (json as { error?: { code?: string; message?: string; problems?: [] } } | undefined)?.error;
        const hint = status === 401 ? ' (wrong token: is --state-dir the daemon’s?)' : '';
        reject(
          new AdminClientError(
            status,
            e?.code ?? 'http_error',
            `${e?.message ?? `HTTP ${status}`}${hint}`,
            e?.problems,
          ),
        );
      });
    });
    req.end(payload);
  });
}

/**
 * Follow `/api/events/stream` until `signal` aborts: each committed event is passed to `onEvent`. Resolves when
 * the stream ends (daemon stopped) or is aborted.
 */
export function followEventStream(
  target: AdminTarget,
  opts: { query?: string; lastEventId?: number; signal?: AbortSignal },
  onEvent: (event: unknown) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return resolve();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (opts.lastEventId !== undefined) headers['last-event-id'] = String(opts.lastEventId);
    const req = open(target, 'GET', `/api/events/stream${opts.query ?? ''}`, headers);
    opts.signal?.addEventListener('abort', () => {
      req.destroy();
      resolve();
    });
    req.on('error', (err) => (opts.signal?.aborted ? resolve() : reject(unreachable(target, err))));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new AdminClientError(res.statusCode ?? 0, 'http_error', `event stream refused: HTTP ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data !== undefined && /^event: event$/m.test(block)) onEvent(JSON.parse(data));
          end = buffer.indexOf('\n\n');
        }
      });
      res.on('end', () => resolve());
      res.on('error', () => resolve());
    });
    req.end();
  });
}
