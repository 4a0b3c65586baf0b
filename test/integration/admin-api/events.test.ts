import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import {
  devicesResponse,
  eventSchema,
  eventsResponse,
  healthResponse,
  outboxResponse,
} from '../../../src/admin/api-schemas.js';
import { startAdmin } from '../../../src/admin/server.js';
import { EVENT_TYPES } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { Outbox } from '../../../src/store/outbox.js';
import { eventually } from '../../helpers/daemon.js';
import { type AdminHarness, openStream, startAdminHarness } from './harness.js';

/** One metric sample from Prometheus text, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('admin API: event log, live stream, outbox, health and metrics', () => {
  let h: AdminHarness;
  let door: GpioDoorStub;

  beforeAll(async () => {
    h = await startAdminHarness({
      devices: [{ id: 'door-1', driver: 'gpio-relay-lock', settings: { relay_pin: 17, contact_pin: 27 } }],
    });
    door = new GpioDoorStub({ dir: h.gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    await door.start();
    await eventually(() => h.events.some((e) => e.type === 'device.health'), 5000, 'door up');
  });
  afterAll(async () => {
    await door?.stop();
    await h?.stop();
  });

  it('reads the log newest-last with filters, and pages on with after', async () => {
    for (let i = 0; i < 3; i++) {
      door.open();
      await eventually(() => h.events.filter((e) => e.type === 'alarm').length === i + 1, 5000, 'alarm');
      door.close();
      await eventually(() => h.events.at(-1)?.data.state === 'closed', 5000, 'closed');
    }
    const all = await h.call('GET', '/api/events?limit=1000');
    expect(eventsResponse.parse(all.body).events.map((e) => e.seq)).toEqual(h.events.map((e) => e.seq));
    expect(all.body.last_seq).toBe(h.events.at(-1)?.seq);

    const two = await h.call('GET', '/api/events?limit=2');
    expect(two.body.events.map((e: { seq: number }) => e.seq)).toEqual(h.events.slice(-2).map((e) => e.seq));
    const alarms = await h.call('GET', '/api/events?type=alarm&dev=door-1');
    expect(alarms.body.events).toHaveLength(3);
    expect(alarms.body.events.every((e: { type: string }) => e.type === 'alarm')).toBe(true);

    const first = await h.call('GET', '/api/events?after=0&limit=4');
    expect(first.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4]);
    const next = await h.call('GET', `/api/events?after=${first.body.last_seq}&limit=4`);
    expect(next.body.events[0].seq).toBe(5);
    const end = await h.call('GET', `/api/events?after=${all.body.last_seq}`);
    expect(end.body).toEqual({ events: [], last_seq: all.body.last_seq });

    const bad = await h.call('GET', '/api/events?limit=0&type=door.opened&colour=red');
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems.map((p: { field: string }) => p.field).sort()).toEqual(['colour', 'limit', 'type']);
    expect(bad.body.error.problems.find((p: { field: string }) => p.field === 'type').message).toContain('alarm');
  });

  it('streams committed events live with their seq as id, and resumes after Last-Event-ID', async () => {
    const live = await openStream(h);
    expect(live.status).toBe(200);
    const alarmsOnly = await openStream(h, { query: '?type=alarm' });
    door.open();
    await eventually(async () => live.events.some((m) => m.event.type === 'alarm'), 5000, 'alarm on the stream');
    const forced = live.events.find((m) => m.event.type === 'door.state');
    expect(forced?.event.data).toEqual({ state: 'forced', locked: true });
    expect(forced?.id).toBe(forced?.event.seq);
    expect(eventSchema.safeParse(forced?.event).success).toBe(true);
    live.close();
    const lastSeen = live.events.at(-1)!.id;

    // Missed while disconnected: the door closes and opens again.
    door.close();
    await eventually(() => h.events.at(-1)?.data.state === 'closed', 5000, 'closed');
    door.open();
    await eventually(() => h.events.at(-1)?.type === 'alarm', 5000, 'second alarm');
    const resumed = await openStream(h, { lastEventId: lastSeen });
    const missed = h.events.filter((e) => e.seq > lastSeen).map((e) => e.seq);
    await eventually(async () => resumed.events.length >= missed.length, 5000, 'replay');
    expect(resumed.events.map((m) => m.id)).toEqual(missed);
    door.close();
    await eventually(async () => resumed.events.at(-1)?.event.data.state === 'closed', 5000, 'live after replay');
    resumed.close();

    await eventually(async () => alarmsOnly.events.length >= 2, 5000, 'filtered stream');
    expect(alarmsOnly.events.every((m) => m.event.type === 'alarm')).toBe(true);
    alarmsOnly.close();
  });

  it('counts the outbox per lane from SQLite, and the metrics and health report the same backlog', async () => {
    const direct = h.gateway.store.db
      .prepare(
        `SELECT o.lane AS lane, COUNT(*) AS n, SUM(length(CAST(e.body AS BLOB))) AS bytes
         FROM outbox o JOIN events e USING (seq) GROUP BY o.lane`,
      )
      .all() as Array<{ lane: number; n: number; bytes: number }>;
    const res = await h.call('GET', '/api/outbox');
    const outbox = outboxResponse.parse(res.body);
    const names = ['critical', 'state', 'telemetry'] as const;
    for (const r of direct) expect(outbox.lanes[names[r.lane]!]).toMatchObject({ count: r.n, bytes: r.bytes });
    expect(outbox.total.count).toBe(direct.reduce((s, r) => s + r.n, 0));
    expect(outbox.lanes.critical.count).toBeGreaterThan(0); // the alarms
    expect(outbox.lanes.critical.oldest_age_s).toBeGreaterThanOrEqual(0);

    const metrics = (await h.call('GET', '/metrics')).text;
    expect(sample(metrics, 'portier_outbox_backlog_events', 'lane="critical"')).toBe(outbox.lanes.critical.count);
    expect(sample(metrics, 'portier_outbox_backlog_events', 'lane="telemetry"')).toBe(0);
    expect(sample(metrics, 'portier_outbox_oldest_age_seconds', 'lane="state"')).toBeGreaterThanOrEqual(0);

    // The cloud acknowledges everything: the backlog empties, and an empty lane has no oldest age.
    h.gateway.store.db.prepare('DELETE FROM outbox').run();
    const after = outboxResponse.parse((await h.call('GET', '/api/outbox')).body);
    expect(after.total).toEqual({ count: 0, oldest_age_s: null, bytes: 0 });
    const health = healthResponse.parse((await h.call('GET', '/api/health')).body);
    expect(health.outbox).toEqual({ count: 0, oldest_age_s: null });
    expect(health).toMatchObject({ status: 'ok', gateway: 'test-gw', devices: { total: 1, up: 1, down: 0 } });
    expect(health.time.quality).toBe('synced');
  });

  it('exports decisions by reason, event-loop lag and device up, and drops removed devices from device up', async () => {
    // A garbage pass at the lock's reader: the gateway's access service decides (malformed) and commits it.
    h.gateway.bus.emit('credential', { reader: 'qr-x', lock: 'door-1', kind: 'pass', value: '%%%', at: Date.now() });
    await eventually(() => h.events.some((e) => e.type === 'access.decision'), 5000, 'decision');
    await h.call('POST', '/api/devices/door-1/test', { body: { duration_ms: 500 } });
    await eventually(() => h.events.filter((e) => e.type === 'access.decision').length === 2, 5000, 'operator');

    const metrics = (await h.call('GET', '/metrics')).text;
    expect(sample(metrics, 'portier_access_decisions_total', 'lock="door-1",reason="malformed"')).toBe(1);
    expect(sample(metrics, 'portier_access_decisions_total', 'lock="door-1",reason="ok"')).toBe(1);
    // Node's own event-loop delay, under its standard name (no second portier_ family says the same).
    expect(metrics).toMatch(/^nodejs_eventloop_lag_p99_seconds [\d.e-]+$/m);
    expect(metrics).not.toContain('portier_event_loop_lag_seconds');
    expect(metrics).not.toMatch(/^portier_(nodejs|process)_/m);
    expect(sample(metrics, 'portier_access_decision_latency_seconds_count', 'outcome="denied"')).toBe(1);
    expect(metrics).toMatch(/^portier_build_info\{version="\d+\.\d+\.\d+[^"]*",nodejs_version="v\d+[^"]*"\} 1$/m);
    expect(sample(metrics, 'portier_device_up', 'device="door-1"')).toBe(1);
    expect(metrics).toContain('# TYPE portier_transport_reconnects_total counter');
    expect(metrics).toContain('# TYPE portier_decode_errors_total counter');

    await h.call('PUT', '/api/devices/spare', { body: { driver: 'gpio-relay-lock', settings: { relay_pin: 22 } } });
    await eventually(() => h.gateway.hosts.get('spare')?.isUp === true, 5000, 'spare up');
    expect(sample((await h.call('GET', '/metrics')).text, 'portier_device_up', 'device="spare"')).toBe(1);
    await h.call('DELETE', '/api/devices/spare');
    expect(sample((await h.call('GET', '/metrics')).text, 'portier_device_up', 'device="spare"')).toBeUndefined();
    expect(devicesResponse.parse((await h.call('GET', '/api/devices')).body).devices.map((d) => d.id)).toEqual([
      'door-1',
    ]);
  });

  it('describes every route in OpenAPI 3.1, with request schemas generated from the zod schemas it validates with', async () => {
    const res = await h.call('GET', '/openapi.json', { token: null });
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: h.admin.url }]);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods as object).map((m) => `${m.toUpperCase()} ${path}`),
    );
    for (const op of [
      'GET /api/devices',
      'GET /api/devices/{id}',
      'PUT /api/devices/{id}',
      'DELETE /api/devices/{id}',
      'POST /api/devices/{id}/test',
      'POST /api/devices/{id}/release',
      'GET /api/events',
      'GET /api/events/stream',
      'GET /api/outbox',
      'GET /api/health',
      'GET /healthz',
      'GET /metrics',
      'POST /api/passes/check',
      'GET /api/keys',
      'POST /api/revocations',
      'GET /openapi.json',
    ]) {
      expect(ops).toContain(op);
    }
    const put = doc.paths['/api/devices/{id}'].put;
    expect(put.security).toEqual([{ bearer: [] }]);
    expect(put.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    const body = put.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({ type: 'object', required: ['driver'], additionalProperties: false });
    expect(put.responses['400'].content['application/json'].schema.properties.error.properties.problems.type).toBe(
      'array',
    );
    const limit = doc.paths['/api/events'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { minimum: 1, maximum: 1000, default: 100 } });
    const type = doc.paths['/api/events'].get.parameters.find((p: { name: string }) => p.name === 'type');
    expect(type.schema.enum).toEqual([...EVENT_TYPES]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/api/events/stream'].get.responses['200'].content).toHaveProperty(['text/event-stream']);
  });
});

describe('admin API with the cloud sync running', () => {
  it("reports the sync outbox's in-memory counts, which agree with the table", async () => {
    const h = await startAdminHarness({
      devices: [{ id: 'door-1', driver: 'gpio-relay-lock', settings: { relay_pin: 17 } }],
    });
    for (let i = 0; i < 50; i++) h.gateway.store.events.record({ dev: 'w', type: 'weather.reading', data: { i } });
    h.gateway.store.events.recordNow({ dev: 'door-1', type: 'alarm', data: { alarm: 'test' } });
    const fromTable = outboxResponse.parse((await h.call('GET', '/api/outbox')).body);
    await h.admin.close(); // one admin API per gateway: its metrics are registered once
    // The backlog on disk is counted on a thread of its own after the start.
    const backlog = new Outbox(h.gateway.store.db);
    await backlog.counted;
    const synced = await startAdmin(h.gateway, {
      listen: '127.0.0.1:0',
      stateDir: h.stateDir,
      log: silentLogger(),
      backlog,
    });
    try {
      const res = await fetch(`${synced.url}/api/outbox`, { headers: { authorization: `Bearer ${synced.token}` } });
      const fromMemory = outboxResponse.parse(await res.json());
      expect(fromMemory.lanes.telemetry).toEqual({ ...fromTable.lanes.telemetry, oldest_age_s: expect.any(Number) });
      expect(fromMemory.total.count).toBe(fromTable.total.count);
      expect(fromMemory.total.bytes).toBe(fromTable.total.bytes);
      expect(fromMemory.lanes.telemetry.count).toBe(50);
    } finally {
      await synced.close();
      await h.stop();
    }
  });
});

describe('admin API when the store fails', () => {
  it('answers healthz 503 and health failing, and keeps serving', async () => {
    const h = await startAdminHarness();
    expect((await h.call('GET', '/healthz')).status).toBe(200);
    h.gateway.store.db.close();
    const z = await h.call('GET', '/healthz', { token: null });
    expect(z.status).toBe(503);
    expect(z.body).toEqual({ status: 'failing', reason: expect.stringMatching(/^store: /) });
    const health = await h.call('GET', '/api/health');
    expect(health.body).toMatchObject({ status: 'failing', store: { ok: false } });
    const events = await h.call('GET', '/api/events');
    expect(events.status).toBe(500);
    expect(events.body.error).toEqual({ code: 'internal', message: 'internal error (see the gateway log)' });
    expect((await h.call('GET', '/healthz')).status).toBe(503);
    await h.admin.close();
    await h.gateway.stop().catch(() => undefined);
  });
});
