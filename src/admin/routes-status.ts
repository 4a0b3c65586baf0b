import { errorSchema, healthResponse, healthzResponse, outboxResponse } from './api-schemas.js';
import type { AdminContext } from './context.js';
import { type AnyRoute, defineRoute } from './route.js';

/** The health report of /api/health: failing when the store does not answer, degraded when a device is down. */
export function healthReport(ctx: AdminContext) {
  const { gateway } = ctx;
  const store = gateway.healthy();
  let up = 0;
  let unknown = 0;
  const downIds: string[] = [];
  for (const [id, host] of gateway.hosts) {
    if (host.isUp === true) up++;
    else if (host.isUp === false) downIds.push(id);
    else unknown++;
  }
  const backlog = store.healthy ? ctx.outbox.read(Date.now()).total : { count: 0, oldest_age_s: null };
  const now = gateway.store.clock.now();
  const floor = gateway.store.clock.timeFloor();
  let mqtt = 'off';
  if (gateway.config.local_mqtt) {
    try {
      mqtt = gateway.mqtt().state;
    } catch {
      mqtt = 'error';
    }
  }
  const status: 'ok' | 'degraded' | 'failing' = !store.healthy ? 'failing' : downIds.length ? 'degraded' : 'ok';
  return {
    status,
    gateway: gateway.id,
    version: ctx.version,
    uptime_s: Math.round(process.uptime()),
    store: store.reason ? { ok: store.healthy, reason: store.reason } : { ok: store.healthy },
    devices: { total: gateway.hosts.size, up, down: downIds.length, unknown, down_ids: downIds.sort() },
    outbox: { count: backlog.count, oldest_age_s: backlog.oldest_age_s },
    time: {
      now: new Date(now.ms).toISOString(),
      quality: now.tq,
      floor: floor > 0 ? new Date(floor).toISOString() : null,
    },
    local_mqtt: mqtt,
  };
}

/** Outbox, health, liveness and metrics. */
export function statusRoutes(ctx: AdminContext): AnyRoute[] {
  const { gateway } = ctx;
  return [
    defineRoute({
      method: 'GET',
      url: '/api/outbox',
      summary: 'What the cloud has not acknowledged: per lane the count, oldest age and bytes',
      tag: 'status',
      auth: 'bearer',
      responses: { 200: { description: 'The backlog', schema: outboxResponse } },
      handler: () => ctx.outbox.read(Date.now(), { bytes: true }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/health',
      summary: 'Devices up and down, outbox backlog, time quality and floor, store health',
      tag: 'status',
      auth: 'bearer',
      responses: { 200: { description: 'The report', schema: healthResponse } },
      handler: () => healthReport(ctx),
    }),
    defineRoute({
      method: 'GET',
      url: '/healthz',
      summary: 'Liveness for load balancers and scripts: 200 while the store answers, else 503 (no auth)',
      tag: 'status',
      auth: 'none',
      responses: {
        200: { description: 'Healthy', schema: healthzResponse },
        503: { description: 'Failing', schema: healthzResponse },
      },
      handler: ({ reply }) => {
        const h = gateway.healthy();
        if (h.healthy) return { status: 'ok' };
        reply.code(503);
        return { status: 'failing', ...(h.reason ? { reason: h.reason } : {}) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/metrics',
      summary: gateway.config.admin.metrics_open
        ? 'Prometheus metrics: open to loopback clients (admin.metrics_open), the bearer token for anyone else'
        : 'Prometheus metrics, with the bearer token (admin.metrics_open opens them to loopback clients)',
      tag: 'status',
      auth: gateway.config.admin.metrics_open ? 'loopback-or-bearer' : 'bearer',
      responses: {
        200: { description: 'Prometheus text exposition format', contentType: 'text/plain; version=0.0.4' },
        401: { description: 'No token (and not on loopback with metrics_open)', schema: errorSchema },
      },
      handler: async ({ reply }) => {
        ctx.metrics.beforeScrape();
        const registry = gateway.metrics.registry;
        reply.type(registry.contentType);
        return registry.metrics();
      },
    }),
  ];
}
