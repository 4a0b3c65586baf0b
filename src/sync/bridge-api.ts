import type { Logger } from 'pino';
import { z } from 'zod';
import { reasonOf } from '../core/errors.js';
import type { MqttLink } from '../core/links.js';
import type { RunningDevices } from '../core/ports.js';
import { LANE_CODES } from '../store/event-log.js';
import type { OutboxQuery } from '../store/outbox-query.js';
import type { Store } from '../store/store.js';

/**
 * The gateway's request/response API on the local broker (as Zigbee2MQTT's bridge API):
 * `<base>/bridge/request/<op>` with a JSON body (optionally carrying `transaction`), answered on
 * `<base>/bridge/response/<op>` with `{status: "ok"|"error", data?, error?, transaction?}`.
 * Read-only on purpose: the local broker is shared with Home Assistant and sensors, and nothing that changes
 * provisioning, keys or revocations is accepted without an operator's signature or the admin token.
 */
const OPS = {
  health: z.object({}).loose(),
  devices: z.object({}).loose(),
  device: z.object({ id: z.string().min(1) }).loose(),
  events: z
    .object({
      limit: z.number().int().min(1).max(500).default(50),
      dev: z.string().optional(),
      type: z.string().optional(),
    })
    .loose(),
  outbox: z.object({}).loose(),
} as const;

type Op = keyof typeof OPS;

/** What the bridge API reads: the registry, the log, the backlog and the running devices; it changes nothing. */
export interface BridgeApiDeps {
  gatewayId: string;
  store: Store;
  devices: RunningDevices;
  /** The shared local link, on which requests arrive and responses leave. */
  link(): MqttLink;
  healthy(): { healthy: boolean };
  /** The process's root logger. */
  log: Logger;
}

export class BridgeApi {
  private off: (() => void) | undefined;
  private readonly log: Logger;
  private readonly backlog: OutboxQuery;
  /** Requests refused as malformed since start. */
  rejected = 0;

  constructor(
    private readonly deps: BridgeApiDeps,
    private readonly base: string,
  ) {
    this.log = deps.log.child({ component: 'bridge-api' });
    this.backlog = deps.store.backlog();
  }

  start(): void {
    const link = this.deps.link();
    this.off = link.subscribe(`${this.base}/bridge/request/+`, (topic, payload) => {
      const op = topic.slice(topic.lastIndexOf('/') + 1);
      const reply = this.answer(op, payload);
      link
        .publish(`${this.base}/bridge/response/${op}`, JSON.stringify(reply), { qos: 0 })
        .catch((err: unknown) => this.log.debug({ err: reasonOf(err) }, 'bridge response not sent'));
    });
  }

  stop(): void {
    this.off?.();
  }

  /** The response for one request; never throws. */
  answer(op: string, payload: Buffer): Record<string, unknown> {
    let body: unknown = {};
    let transaction: unknown;
    try {
      if (payload.length > 0) body = JSON.parse(payload.toString('utf8'));
      transaction = (body as { transaction?: unknown } | null)?.transaction;
    } catch {
      return this.fail('request body is not JSON');
    }
    const withTx = (r: Record<string, unknown>) => (transaction === undefined ? r : { ...r, transaction });
    if (!(op in OPS)) return withTx(this.fail(`unknown op "${op}" (known: ${Object.keys(OPS).join(', ')})`));
    const parsed = OPS[op as Op].safeParse(body ?? {});
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return withTx(this.fail(`${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`));
    }
    try {
      return withTx({ status: 'ok', data: this.run(op as Op, parsed.data as Record<string, unknown>) });
    } catch (err) {
      return withTx(this.fail(reasonOf(err)));
    }
  }

  private fail(error: string): Record<string, unknown> {
    this.rejected++;
    return { status: 'error', error };
  }

  private run(op: Op, args: Record<string, unknown>): unknown {
    const { store, devices } = this.deps;
    switch (op) {
      case 'health':
        return {
          gateway: this.deps.gatewayId,
          healthy: this.deps.healthy().healthy,
          devices: [...devices.values()].map((h) => ({ id: h.id, up: h.isUp ?? null })),
          time: store.clock.now(),
        };
      case 'devices':
        return store.devices
          .list()
          .map((d) => ({ id: d.id, driver: d.driver, source: d.source, up: devices.get(d.id)?.isUp ?? null }));
      case 'device': {
        const d = store.devices.get(String(args.id));
        if (!d) throw new Error(`no device "${String(args.id)}"`);
        const host = devices.get(d.id);
        return { ...d, up: host?.isUp ?? null, rejected: Object.fromEntries(host?.rejected ?? []) };
      }
      case 'events': {
        const filter: { dev?: string; type?: string } = {};
        if (typeof args.dev === 'string') filter.dev = args.dev;
        if (typeof args.type === 'string') filter.type = args.type;
        return store.events.tail(Number(args.limit), filter);
      }
      case 'outbox':
        // The lanes that hold events, by their code, as `{lane, count}` rows (the bridge API's shape since 0.1).
        return Object.entries(this.backlog.read(Date.now()).lanes)
          .filter(([, l]) => l.count > 0)
          .map(([name, l]) => ({ lane: LANE_CODES[name as keyof typeof LANE_CODES], count: l.count }))
          .sort((a, b) => a.lane - b.lane);
    }
  }
}
