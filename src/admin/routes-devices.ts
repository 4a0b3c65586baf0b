import { z } from 'zod';
import { ApiError } from './api-errors.js';
import {
  deviceIdParams,
  devicePutBody,
  devicePutResponse,
  deviceSchema,
  devicesResponse,
  deviceTestBody,
  deviceTestResponse,
  driversResponse,
  errorSchema,
  okResponse,
  releaseResponse,
} from './api-schemas.js';
import { recordOperatorOpen } from './audit.js';
import { type AdminContext, deviceView } from './context.js';
import { type AnyRoute, defineRoute } from './route.js';

const E400 = { description: 'Invalid request, with problems by field', schema: errorSchema };
const E404 = { description: 'No such device', schema: errorSchema };
const E409 = { description: 'Not possible in the current state', schema: errorSchema };

/** The actor recorded in audit events for changes made through this API. */
export const API_ACTOR = 'api';

function requireDevice(ctx: AdminContext, id: string) {
  const rec = ctx.gateway.store.devices.get(id);
  if (!rec) throw new ApiError(404, 'not_found', `no device "${id}"`);
  return rec;
}

function requireHost(ctx: AdminContext, id: string) {
  requireDevice(ctx, id);
  const host = ctx.gateway.hosts.get(id);
  if (!host) throw new ApiError(409, 'not_running', `device "${id}" is not running (disabled or failed to start)`);
  return host;
}

/** Devices and drivers: list, show, add or change, remove, test, emergency release. */
export function deviceRoutes(ctx: AdminContext): AnyRoute[] {
  const { gateway } = ctx;
  return [
    defineRoute({
      method: 'GET',
      url: '/api/drivers',
      summary: 'Drivers this gateway knows, with the JSON Schema of their settings (for forms)',
      tag: 'devices',
      auth: 'bearer',
      responses: { 200: { description: 'The drivers', schema: driversResponse } },
      handler: () => ({
        drivers: gateway.drivers
          .all()
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((d) => ({
            id: d.id,
            kind: d.kind,
            transport: d.transport,
            description: d.description,
            events: [...d.events],
            commands: Object.keys(d.commands ?? {}),
            settings: z.toJSONSchema(d.config, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
          })),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/devices',
      summary: 'Every device with its health and live state, and parking zones',
      tag: 'devices',
      auth: 'bearer',
      responses: { 200: { description: 'Devices and zones', schema: devicesResponse } },
      handler: () => {
        const records = gateway.store.devices.list();
        const ids = new Set(records.map((r) => r.id));
        const zones = [...ctx.states.entries()]
          .filter(([id, s]) => !ids.has(id) && id !== gateway.id && s.types.has('parking.zone'))
          .map(([id, s]) => ({ id, state: s.state, state_ts: s.ts }));
        return { devices: records.map((r) => deviceView(ctx, r)), zones };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/devices/:id',
      summary: 'One device',
      tag: 'devices',
      auth: 'bearer',
      params: deviceIdParams,
      responses: { 200: { description: 'The device', schema: deviceSchema }, 404: E404 },
      handler: ({ params }) => deviceView(ctx, requireDevice(ctx, params.id)),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/devices/:id',
      summary: "Add a device or change a run-time one; validated by the driver's schema, audited",
      tag: 'devices',
      auth: 'bearer',
      params: deviceIdParams,
      body: devicePutBody,
      responses: {
        200: { description: 'Changed', schema: devicePutResponse },
        201: { description: 'Added', schema: devicePutResponse },
        400: E400,
        409: { description: 'The device is declared in the config file', schema: errorSchema },
      },
      handler: async ({ params, body, reply }) => {
        if (gateway.store.devices.get(params.id)?.source === 'config') {
          throw new ApiError(
            409,
            'config_device',
            `device "${params.id}" is declared in the config file; change it there`,
          );
        }
        const req = { id: params.id, driver: body.driver, settings: body.settings };
        const { action } = await gateway.provisioning.upsert(
          {
            ...req,
            ...(body.name !== undefined ? { name: body.name } : {}),
            ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
          },
          API_ACTOR,
        );
        if (action === 'added') ctx.states.forget(params.id);
        reply.code(action === 'added' ? 201 : 200);
        return { action, device: deviceView(ctx, requireDevice(ctx, params.id)) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/devices/:id',
      summary: 'Remove a run-time device (stops it first); audited',
      tag: 'devices',
      auth: 'bearer',
      params: deviceIdParams,
      responses: {
        200: { description: 'Removed', schema: okResponse },
        404: E404,
        409: { description: 'The device is declared in the config file', schema: errorSchema },
      },
      handler: async ({ params }) => {
        const rec = requireDevice(ctx, params.id);
        if (rec.source === 'config') {
          throw new ApiError(
            409,
            'config_device',
            `device "${params.id}" is declared in the config file; remove it there`,
          );
        }
        await gateway.provisioning.remove(params.id, API_ACTOR);
        ctx.states.forget(params.id);
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/devices/:id/test',
      summary: 'Check a device: pulse a lock (its unlock command, audited), or show its latest readings',
      tag: 'devices',
      auth: 'bearer',
      params: deviceIdParams,
      body: deviceTestBody,
      bodyOptional: true,
      responses: { 200: { description: 'What happened', schema: deviceTestResponse }, 404: E404, 409: E409 },
      handler: async ({ params, body }) => {
        const rec = requireDevice(ctx, params.id);
        const host = gateway.hosts.get(params.id);
        const def = gateway.drivers.get(rec.driver);
        const events = gateway.store.events.tail(10, { dev: params.id });
        const out: Record<string, unknown> = {
          device: params.id,
          up: host?.isUp ?? null,
          state: ctx.states.get(params.id)?.state ?? {},
          events,
        };
        if (def?.commands?.unlock) {
          const running = requireHost(ctx, params.id);
          const args = body.duration_ms === undefined ? {} : { duration_ms: body.duration_ms };
          recordOperatorOpen(gateway.store, params.id, 'test', API_ACTOR);
          const result = await running.command('unlock', args);
          return { ...out, action: 'pulsed', result };
        }
        if (body.duration_ms !== undefined) {
          throw new ApiError(400, 'validation_failed', `device "${params.id}" is not a lock`, [
            { field: 'duration_ms', message: 'only locks take a pulse duration' },
          ]);
        }
        return { ...out, action: 'readings' };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/devices/:id/release',
      summary: 'Emergency release: open a lock now (its emergency_release command, else unlock), audited as an alarm',
      tag: 'devices',
      auth: 'bearer',
      params: deviceIdParams,
      responses: { 200: { description: 'Released', schema: releaseResponse }, 404: E404, 409: E409 },
      handler: async ({ params }) => {
        const host = requireHost(ctx, params.id);
        const commands = host.def.commands ?? {};
        // A toilet's own emergency mode (held open until reset) first; a plain lock's timed unlock otherwise.
        const command = ['emergency_release', 'release', 'unlock'].find((c) => commands[c] !== undefined);
        if (!command) throw new ApiError(409, 'not_a_lock', `device "${params.id}" has nothing to release`);
        // The alarm is durable before the strike moves: an emergency opening must be on record even if power fails.
        gateway.store.events.recordNow({
          dev: params.id,
          type: 'alarm',
          data: { alarm: 'emergency_release', actor: API_ACTOR },
        });
        recordOperatorOpen(gateway.store, params.id, 'emergency_release', API_ACTOR);
        const result = await host.command(command, {});
        return { device: params.id, command, result };
      },
    }),
  ];
}
