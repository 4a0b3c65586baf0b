import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ErrorCode, PortierError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';
import type { BacklogSource } from '../store/outbox-query.js';
import { ApiError, toHttpError } from './api-errors.js';
import { ADMIN_TOKEN_FILE, bearerMatches, loadOrCreateAdminToken } from './auth.js';
import type { AdminContext } from './context.js';
import { DeviceStates } from './device-state.js';
import { allowedHosts, hostOf } from './host-check.js';
import { MetricsCollector } from './metrics-collector.js';
import { NgsiLdSource } from './ngsi-ld-source.js';
import { buildOpenApi } from './openapi.js';
import type { OperatedGateway } from './operated-gateway.js';
import { PassChecker } from './pass-check.js';
import { type AnyRoute, defineRoute, type RouteAuth, registerRoutes } from './route.js';
import { accessRoutes } from './routes-access.js';
import { datexRoutes } from './routes-datex.js';
import { deviceRoutes } from './routes-devices.js';
import { eventRoutes } from './routes-events.js';
import { ngsiLdRoutes } from './routes-ngsi-ld.js';
import { statusRoutes } from './routes-status.js';
import { securityHeaders } from './security-headers.js';
import { EventStream } from './sse.js';
import { type Asset, loadAssets } from './web-assets.js';

export interface AdminOptions {
  /** `host:port` (config `admin.listen`, env PORTIER_ADMIN_LISTEN); default 127.0.0.1:8080; port 0 picks one. */
  listen: string;
  /** Where the admin token file lives (`<state_dir>/admin-token`, created on first start, mode 0600). */
  stateDir: string;
  log: Logger;
  /** Serve HTTPS with this certificate and key (PEM contents, not paths). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The dashboard's folder; default src/admin/web in the package. */
  webDir?: string;
  /**
   * In-memory outbox counts (the cloud sync service's `outbox`), so health and metrics never count a long backlog
   * in SQLite; without it the outbox is counted by query.
   */
  backlog?: BacklogSource;
}

export interface AdminServer {
  /** Base URL it listens on, e.g. http://127.0.0.1:8080 (the real port when 0 was asked). */
  url: string;
  /** The bearer token clients must send. Never log it. */
  token: string;
  close(): Promise<void>;
}

/** bytes of a request body, at most (a device's settings or a JWK Set are a few KiB) */
const BODY_LIMIT = 65_536;

/** Split `host:port`; the port must be 0-65535. */
export function parseListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = at > 0 ? listen.slice(0, at) : '';
  const port = Number(listen.slice(at + 1));
  if (!host || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new PortierError(
      ErrorCode.ConfigInvalid,
      `admin.listen: expected host:port such as 127.0.0.1:8080, got "${listen}"`,
    );
  }
  return { host, port };
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

/** Identity of the token file's current version: inode and mtime ('' when missing). */
function stampOf(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.mtimeMs}`;
  } catch {
    return '';
  }
}

/** Portier's version from package.json ('0.0.0' when it cannot be read). */
export function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * Start the local admin API and dashboard (fastify) on `opts.listen`, bound to loopback by default. Every route
 * refuses a Host header that is not one of its names (host-check.ts). Every `/api` route needs
 * `Authorization: Bearer <token>` with the token of `<state_dir>/admin-token`; `/healthz` is open; `/metrics` needs
 * the token too, unless `admin.metrics_open` opens it to loopback clients. Request bodies and queries are validated with zod; errors are
 * `{error:{code,message,problems?}}`, counted in `portier_admin_errors_total`, and never stop the gateway.
 * Call after `gateway.start()`; `close()` before `gateway.stop()`.
 */
export async function startAdmin(gateway: OperatedGateway, opts: AdminOptions): Promise<AdminServer> {
  const log = opts.log.child({ component: 'admin' });
  const { host, port } = parseListen(opts.listen);
  let token = loadOrCreateAdminToken(opts.stateDir, log).token;
  const outbox = gateway.store.backlog(opts.backlog);
  const ctx: AdminContext = {
    gateway,
    log,
    states: new DeviceStates((types, rows) => gateway.store.latestEvents(types, rows), gateway.bus, gateway.background),
    outbox,
    passes: new PassChecker(gateway.access.service),
    metrics: new MetricsCollector(gateway, outbox),
    stream: new EventStream(gateway.store.query, gateway.bus, log),
    version: readVersion(),
    startedAt: Date.now(),
  };
  const assets = loadAssets(opts.webDir);

  // Refusals the router makes before any route runs (an undecodable URL, an over-long path parameter) get the
  // same JSON error shape and are counted like the rest.
  const frameworkErrors = (err: Error, req: FastifyRequest, reply: FastifyReply) => {
    ctx.metrics.adminErrors.inc({ status: '400', code: 'bad_url' });
    log.debug({ code: (err as { code?: string }).code }, 'admin request refused by the router');
    void reply
      .code(400)
      .type('application/json; charset=utf-8')
      .send({ error: { code: 'bad_url', message: `malformed URL ${req.url.slice(0, 80)}` } });
  };
  const common = {
    logger: false,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    // ms to receive a whole request (a slow client cannot hold a connection open by trickling headers)
    requestTimeout: 30_000,
    routerOptions: { maxParamLength: 512 },
    frameworkErrors,
  } as const;
  const app = (opts.tls
    ? Fastify({ ...common, https: { cert: opts.tls.cert, key: opts.tls.key } })
    : Fastify(common)) as unknown as FastifyInstance;

  /**
   * A presented token that does not match makes us look at the token file: when it was replaced (rotation, by
   * inode or mtime), the new token is read and holds from this request on. A stat per refused request is cheap.
   */
  const tokenPath = join(opts.stateDir, ADMIN_TOKEN_FILE);
  let tokenStamp = stampOf(tokenPath);
  const authorized = (header: string | undefined): boolean => {
    if (bearerMatches(header, token)) return true;
    if (header === undefined) return false;
    const stamp = stampOf(tokenPath);
    if (stamp === tokenStamp) return false;
    tokenStamp = stamp;
    try {
      token = loadOrCreateAdminToken(opts.stateDir, log).token;
    } catch (err) {
      log.error({ err }, 'admin token file unreadable; keeping the token in use');
    }
    return bearerMatches(header, token);
  };

  // Bodies are JSON; a text body is refused as such (415) rather than validated as a string.
  app.removeContentTypeParser('text/plain');

  // Every route, the open ones included: a page an attacker serves under a name that resolves to this address
  // (DNS rebinding) must not read anything, not even /healthz or /metrics.
  const hosts = allowedHosts(host, gateway.config.admin.host_names);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const given = req.headers.host;
    if (given === undefined || !hosts.has(hostOf(given))) {
      throw new ApiError(
        421,
        'misdirected_request',
        `this gateway does not answer to host "${String(given ?? '').slice(0, 80)}" (see admin.host_names)`,
      );
    }
    const auth = (req.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth ?? 'bearer';
    if (auth === 'none') return;
    if (auth === 'loopback-or-bearer' && isLoopback(req.socket.remoteAddress)) return;
    // Unknown paths under /api answer 401 to strangers too: the route list is not theirs to probe.
    if (req.routeOptions.url === undefined && !req.url.startsWith('/api/')) return;
    if (!authorized(req.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer realm="portier"');
      throw new ApiError(401, 'unauthorized', 'missing or wrong bearer token (see <state_dir>/admin-token)');
    }
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    const html = String(reply.getHeader('content-type') ?? '').startsWith('text/html');
    for (const [k, v] of Object.entries(securityHeaders(html))) reply.header(k, v);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    // Path only: a query is the operator's business, and no route takes a secret in its URL anyway.
    log.debug(
      { method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'admin request',
    );
  });
  app.setErrorHandler(async (err, req, reply) => {
    const h = toHttpError(err);
    ctx.metrics.adminErrors.inc({ status: String(h.status), code: h.code });
    if (h.status >= 500) log.error({ err, path: req.url.split('?')[0] }, 'admin request failed');
    else log.debug({ status: h.status, code: h.code, path: req.url.split('?')[0] }, 'admin request refused');
    const error: Record<string, unknown> = { code: h.code, message: h.message };
    if (h.problems) error.problems = h.problems;
    return reply.code(h.status).type('application/json; charset=utf-8').send({ error });
  });
  app.setNotFoundHandler(async (req) => {
    throw new ApiError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
  });

  const routes: AnyRoute[] = [
    ...deviceRoutes(ctx),
    ...eventRoutes(ctx),
    ...statusRoutes(ctx),
    ...accessRoutes(ctx),
    ...datexRoutes(gateway),
  ];
  const ngsiLd = gateway.config.ngsi_ld?.serve ? new NgsiLdSource(gateway, ctx.states) : undefined;
  if (ngsiLd) routes.push(...ngsiLdRoutes(ngsiLd));
  const openapiRoute = defineRoute({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This description (OpenAPI 3.1)',
    tag: 'meta',
    auth: 'none',
    responses: { 200: { description: 'The OpenAPI document', contentType: 'application/json' } },
    handler: () => document,
  });
  routes.push(openapiRoute);
  registerRoutes(app, routes);
  registerWeb(app, assets);
  app.addHook('preClose', async () => ctx.stream.closeAll());

  try {
    await app.listen({ host, port });
  } catch (err) {
    // Undo what was registered (metrics, bus listeners), so a later attempt starts clean.
    ctx.stream.close();
    ngsiLd?.close();
    ctx.states.close();
    ctx.metrics.close();
    await app.close();
    throw err;
  }
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  const document = buildOpenApi(routes, { version: ctx.version, serverUrl: url });
  if (!isLoopback(host) && host !== 'localhost' && !opts.tls) {
    log.warn(
      { listen: opts.listen },
      'admin API listens beyond loopback without TLS: the token crosses the network in clear',
    );
  }
  log.info({ url }, 'admin API and dashboard listening');
  let closing: Promise<void> | undefined;

  return {
    url,
    get token() {
      return token;
    },
    async close() {
      closing ??= (async () => {
        ctx.stream.close();
        await app.close();
        ngsiLd?.close();
        ctx.states.close();
        ctx.metrics.close();
      })();
      await closing;
    },
  };
}

/** The dashboard: `/` is index.html, `/assets/<file>` the rest; no auth (the page holds no data, the API does). */
function registerWeb(app: FastifyInstance, assets: Map<string, Asset>): void {
  const send = (reply: FastifyReply, req: FastifyRequest, asset: Asset) => {
    reply.header('etag', asset.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };
  app.get('/', { config: { auth: 'none' } }, async (req, reply) => {
    const index = assets.get('index.html');
    if (!index) throw new ApiError(404, 'not_found', 'the dashboard is not installed (src/admin/web missing)');
    return send(reply, req, index);
  });
  app.get('/assets/*', { config: { auth: 'none' } }, async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const asset = name === 'index.html' ? undefined : assets.get(name);
    if (!asset) throw new ApiError(404, 'not_found', `no asset ${name}`);
    return send(reply, req, asset);
  });
}
