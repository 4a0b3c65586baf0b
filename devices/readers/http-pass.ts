import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import type { PortierEvent } from '../../src/core/events.js';
import { type Lang, pickLang } from '../../src/core/lang.js';
import type { HttpRequest, HttpResponse, HttpServer } from '../../src/core/links.js';
import { type DoorName, doorPage, messageFor, PAGE_CSP, resultPage } from './http-pass-page.js';
import { QR_MAX_LINE } from './serial-qr.js';
import { TokenBuckets } from './token-bucket.js';

export const httpPassConfig = z
  .object({
    /** Address to listen on; 0.0.0.0 for the town Wi-Fi, 127.0.0.1 behind a reverse proxy. */
    host: z.string().min(1).default('0.0.0.0'),
    /** TCP port, 1-65535; a string of digits is taken too, so `${PORT_VARIABLE}` works in the config file. */
    port: z
      .union([
        z.number(),
        z
          .string()
          .regex(/^\d{1,5}$/, 'expected a port number')
          .transform(Number),
      ])
      .pipe(z.number().int().min(1, 'expected a port 1-65535').max(65_535, 'expected a port 1-65535')),
    /**
     * The locks served, each at /door/<lock>: a lock id, or `{ id, name: { de, en } }` to show the door's name on
     * its page instead of the id.
     */
    locks: z
      .array(
        z.union([
          z.string().min(1),
          z
            .object({
              id: z.string().min(1),
              /** the door's name on its page, e.g. { de: WC Marktplatz, en: Toilet market square } */
              name: z.object({ de: z.string().min(1).max(100), en: z.string().min(1).max(100) }).strict(),
            })
            .strict(),
        ]),
      )
      .min(1),
    /** Openings a client address may try at once, 1-100 */
    rate_burst: z.number().int().min(1).max(100).default(5),
    /** Tries a client address gets back per minute, 1-600 */
    rate_per_minute: z.number().int().min(1).max(600).default(10),
    /** bytes of a request body at most, 256-16384 */
    max_body_bytes: z.number().int().min(256).max(16_384).default(4096),
    /** ms to wait for the door's decision before answering "no answer", 500-10000 */
    decision_timeout_ms: z.number().int().min(500).max(10_000).default(3000),
  })
  .strict();

/** Requests waiting for their decision at most; more are turned away with 503 rather than queued without end. */
const MAX_WAITING = 16;
const PRINTABLE = /^[\x20-\x7e]+$/;

type Reply = { status: number; granted: boolean; reason: string };

function send(res: HttpResponse, status: number, type: string, body: string, extra: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': PAGE_CSP,
    ...extra,
  });
  res.end(body);
}

/** The pass in a request body: JSON {"pass"}, a form field `pass`, or the text itself; a pasted link gives its fragment. */
export function passFromBody(type: string, body: string): string | undefined {
  let text: unknown;
  if (type.startsWith('application/json')) {
    try {
      text = (JSON.parse(body) as { pass?: unknown } | null)?.pass;
    } catch {
      return undefined;
    }
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    text = new URLSearchParams(body).get('pass');
  } else if (type.startsWith('text/plain') || type === '') {
    text = body;
  }
  if (typeof text !== 'string') return undefined;
  let pass = text.trim();
  const hash = pass.lastIndexOf('#');
  if (hash >= 0) {
    pass = pass.slice(hash + 1);
    try {
      pass = decodeURIComponent(pass);
    } catch {
      // Not percent-encoded after all: take it as it is.
    }
  }
  return pass.length > 0 && pass.length <= QR_MAX_LINE && PRINTABLE.test(pass) ? pass : undefined;
}

/**
 * The pass endpoint for phones on the town Wi-Fi: `GET /door/<lock>` serves a tiny page (no app), `POST
 * /door/<lock>/open` takes a pass and answers with the door's decision. Each client address has a token bucket
 * (429 with Retry-After when it is empty); bodies are bounded (413). The pass is never logged.
 */
export const httpPassReader = defineDriver({
  id: 'http-pass-reader',
  kind: 'reader',
  transport: 'http',
  description: 'Pass endpoint for phones (no app): a page per door and POST /door/<lock>/open, rate-limited per client',
  config: httpPassConfig,
  events: ['device.health'],
  create(ctx) {
    const cfg = ctx.config;
    /** Each lock served, with its display name when the config gives one. */
    const locks = new Map<string, DoorName | undefined>(
      cfg.locks.map((l) => (typeof l === 'string' ? [l, undefined] : [l.id, l.name])),
    );
    const buckets = new TokenBuckets(cfg.rate_burst, cfg.rate_per_minute);
    let server: HttpServer | undefined;
    let queue: Promise<unknown> = Promise.resolve();
    let waiting = 0;

    /** Present a pass and wait for its decision. One at a time, so the next decision from this reader is ours. */
    const decide = (lock: string, pass: string): Promise<Reply> => {
      if (waiting >= MAX_WAITING) return Promise.resolve({ status: 503, granted: false, reason: 'busy' });
      waiting++;
      const run = () =>
        new Promise<Reply>((resolve) => {
          const timer = setTimeout(() => {
            off();
            resolve({ status: 504, granted: false, reason: 'no_answer' });
          }, cfg.decision_timeout_ms);
          const off = ctx.bus.on('event', (e: PortierEvent) => {
            if (e.type !== 'access.decision' || e.data.reader !== ctx.id || e.data.lock !== lock) return;
            clearTimeout(timer);
            off();
            const granted = e.data.granted === true;
            resolve({ status: granted ? 200 : 403, granted, reason: String(e.data.reason) });
          });
          ctx.bus.emit('credential', { reader: ctx.id, lock, kind: 'pass', value: pass, at: Date.now() });
        });
      const p = queue.then(run, run).finally(() => waiting--);
      queue = p;
      return p;
    };

    /** The body as text; `too_large` past max_body_bytes; `aborted` when the client went or timed out first. */
    const readBody = (req: HttpRequest): Promise<string | 'too_large' | 'aborted'> =>
      new Promise((resolve) => {
        const declared = Number(req.headers['content-length'] ?? '0');
        if (declared > cfg.max_body_bytes) return resolve('too_large');
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size > cfg.max_body_bytes) {
            req.removeAllListeners('data');
            req.pause();
            resolve('too_large');
          } else chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.on('error', () => resolve('aborted'));
      });

    const open = async (req: HttpRequest, res: HttpResponse, lock: string, lang: Lang): Promise<void> => {
      const type = String(req.headers['content-type'] ?? '').toLowerCase();
      const html = type.startsWith('application/x-www-form-urlencoded');
      const answer = (r: Reply, extra: Record<string, string> = {}) => {
        const message = messageFor(r.reason, lang);
        const name = locks.get(lock);
        if (html)
          send(res, r.status, 'text/html; charset=utf-8', resultPage(lock, name, lang, r.granted, message), extra);
        else
          send(
            res,
            r.status,
            'application/json',
            JSON.stringify({ granted: r.granted, reason: r.reason, message }),
            extra,
          );
      };
      const client = req.socket.remoteAddress ?? 'unknown';
      const token = buckets.take(client, performance.now());
      if (!token.ok) {
        ctx.reject('rate_limited', { client });
        req.resume();
        answer(
          { status: 429, granted: false, reason: 'rate_limited' },
          { 'retry-after': String(Math.ceil(token.retryAfterMs / 1000)) },
        );
        return;
      }
      const body = await readBody(req);
      if (body === 'aborted') {
        // The server's request timeout (or the client) ended the connection while the body trickled in.
        ctx.reject('body_incomplete', { client });
        return;
      }
      if (body === 'too_large') {
        ctx.reject('body_too_large', { client, max: cfg.max_body_bytes });
        res.once('finish', () => req.socket.destroy());
        answer({ status: 413, granted: false, reason: 'body_too_large' }, { connection: 'close' });
        return;
      }
      const pass = passFromBody(type, body);
      if (pass === undefined) {
        ctx.reject('no_pass', { client });
        answer({ status: 400, granted: false, reason: 'malformed' });
        return;
      }
      answer(await decide(lock, pass));
    };

    const handle = async (req: HttpRequest, res: HttpResponse): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://door.invalid');
      const m = /^\/door\/([^/]+)(\/open)?\/?$/.exec(url.pathname);
      let lock: string | undefined;
      try {
        lock = m ? decodeURIComponent(m[1]!) : undefined;
      } catch {
        lock = undefined;
      }
      if (!m || !lock || !locks.has(lock)) {
        req.resume();
        send(res, 404, 'text/plain; charset=utf-8', 'No such door.\n');
        return;
      }
      const method = req.method ?? 'GET';
      const lang = pickLang(url.searchParams.get('lang') ?? undefined, req.headers['accept-language']);
      if (!m[2] && (method === 'GET' || method === 'HEAD')) {
        req.resume();
        send(res, 200, 'text/html; charset=utf-8', method === 'HEAD' ? '' : doorPage(lock, locks.get(lock), lang), {
          'content-language': lang,
          vary: 'Accept-Language',
        });
        return;
      }
      if (m[2] && method === 'POST') {
        await open(req, res, lock, lang);
        return;
      }
      req.resume();
      send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n', { allow: m[2] ? 'POST' : 'GET' });
    };

    return {
      async start() {
        // The transport cuts off slow or idle clients: the page is tiny and a pass is a few hundred bytes.
        const s = await ctx.http().serve({ host: cfg.host, port: cfg.port }, (req, res) => {
          handle(req, res).catch((err: unknown) => {
            ctx.log.error({ err }, 'pass request failed');
            if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Error.\n');
            else res.destroy();
          });
        });
        s.onError((err) => ctx.health(false, `http: ${err.message}`));
        server = s;
        ctx.log.info({ host: cfg.host, port: cfg.port, locks: [...locks.keys()] }, 'pass endpoint listening');
        ctx.health(true);
      },
      async stop() {
        const s = server;
        server = undefined;
        await s?.close();
      },
    };
  },
});
