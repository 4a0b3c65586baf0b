import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { HttpAnswer, HttpListenerLink, HttpListenerOptions, HttpUpload } from '../core/links.js';
import { Backoff, NETWORK_BACKOFF } from './backoff.js';
import { ReconnectingLink } from './link.js';

/**
 * A small HTTP listener as a link, for devices that push (an Ecowitt console's "customized upload"): it is `up`
 * while it listens, and a port that is taken (or an address not yet configured) makes it `down` with the reason
 * and retried with backoff, like any other link. Bodies are bounded and handed over as text; nothing is parsed
 * here. On fastify, like the admin API.
 */
export function createHttpListener(opts: HttpListenerOptions, log: Logger): HttpListenerLink {
  return new FastifyListenerLink(opts, log);
}

class FastifyListenerLink extends ReconnectingLink implements HttpListenerLink {
  private app: FastifyInstance | undefined;
  private handler: ((upload: HttpUpload) => HttpAnswer) | undefined;
  private bound = 0;

  constructor(
    private readonly opts: HttpListenerOptions,
    log: Logger,
  ) {
    super(log.child({ transport: 'http', port: opts.port }), new Backoff(opts.backoff, NETWORK_BACKOFF));
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65_535) {
      throw new PortierError(ErrorCode.ConfigInvalid, `HTTP listener port must be 0-65535, got ${opts.port}`);
    }
    if (opts.paths.length === 0 || opts.paths.some((p) => !p.startsWith('/'))) {
      throw new PortierError(ErrorCode.ConfigInvalid, 'HTTP listener paths must start with "/"');
    }
  }

  get port(): number {
    return this.bound;
  }

  onUpload(handler: (upload: HttpUpload) => HttpAnswer): void {
    this.handler = handler;
  }

  protected async open(): Promise<void> {
    const bodyLimit = this.opts.bodyLimit ?? 16_384;
    const app = Fastify({ logger: false, bodyLimit });
    // Every body stays text: a form, JSON or anything a firmware sends is the codec's to judge, not fastify's.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
    const paths = new Set(this.opts.paths);
    const methods = this.opts.methods ?? ['POST', 'GET'];
    app.route({
      method: methods,
      url: '/*',
      handler: (req, reply) => {
        const [path = '/', ...rest] = req.url.split('?');
        if (!paths.has(path)) return reply.code(404).send('not found');
        const query = Object.fromEntries(new URLSearchParams(rest.join('?')));
        const upload: HttpUpload = {
          method: req.method,
          path,
          query,
          body: typeof req.body === 'string' ? req.body : '',
          contentType: req.headers['content-type'],
          remote: req.ip,
        };
        try {
          const answer = this.handler?.(upload) ?? { status: 503, body: 'no handler' };
          return reply
            .code(answer.status)
            .type('text/plain')
            .send(answer.body ?? '');
        } catch (err) {
          this.log.error({ err: reasonOf(err) }, 'upload handler threw');
          return reply.code(500).send('error');
        }
      },
    });
    app.setErrorHandler((err, _req, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      this.log.debug({ err: reasonOf(err), status }, 'http request refused');
      void reply
        .code(status)
        .type('text/plain')
        .send(status === 413 ? 'body too large' : 'bad request');
    });
    this.app = app;
    try {
      await app.listen({ host: this.opts.host, port: this.opts.port });
    } catch (err) {
      throw new PortierError(
        ErrorCode.TransportOpenFailed,
        `HTTP ${this.opts.host}:${this.opts.port}: ${reasonOf(err)}`,
        {},
        { cause: err },
      );
    }
    const addr = app.server.address();
    this.bound = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    app.server.on('close', () => this.lost('HTTP listener closed'));
  }

  protected async release(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    this.bound = 0;
    if (app) await app.close().catch(() => undefined);
  }
}
