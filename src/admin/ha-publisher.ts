import { Counter } from 'prom-client';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import type { DeviceRecord } from '../store/device-registry.js';
import { recordOperatorOpen } from './audit.js';
import { deviceDiscovery } from './ha-device-discovery.js';
import {
  bridgeDiscovery,
  DEFAULT_DISCOVERY_PREFIX,
  type DiscoveryContext,
  type DiscoveryMessage,
  type DiscoverySubject,
  discoveryFor,
  LOCK_PAYLOADS,
  zoneDiscovery,
} from './ha-discovery.js';
import type { OperatedGateway } from './operated-gateway.js';

export interface HaDiscoveryOptions {
  /** Home Assistant's discovery prefix, default `homeassistant`. */
  discoveryPrefix?: string;
  /** Portier version for the gateway's device page. */
  swVersion?: string;
  /** The dashboard's URL, linked from Home Assistant. */
  configurationUrl?: string;
  /** The discovery origin's support_url, default the dashboard's URL. */
  supportUrl?: string;
}

export interface HaDiscoveryHandle {
  /** Publish every discovery config again (what a broker reconnect or Home Assistant's birth message does). */
  publishAll(): Promise<void>;
  close(): Promise<void>;
}

/** Payloads Home Assistant's MQTT lock sends on the command topic (ha-discovery.ts LOCK_PAYLOADS). */
const commandPayload = z.enum([LOCK_PAYLOADS.lock, LOCK_PAYLOADS.unlock, LOCK_PAYLOADS.open]);

/** The actor of openings commanded over the local broker, in audit events. */
const MQTT_ACTOR = 'mqtt';

/**
 * Home Assistant MQTT discovery on the local broker: every device's entities as one device-based discovery message
 * (`<prefix>/device/<object_id>/config`, ha-device-discovery.ts; retained, QoS 1), published at start,
 * again whenever the link comes back (a broker restart loses retained messages without persistence) and whenever
 * Home Assistant announces itself on `<prefix>/status` (its documented birth message), and removed (empty retained
 * payloads) when a device goes. A lock whose `local_mqtt_control` is on is commanded on `<base>/<device>/set` with
 * LOCK, UNLOCK or OPEN, each opening audited before the strike moves; any other lock refuses (and counts) what
 * arrives there. Without `local_mqtt` configured this does nothing.
 */
export function startHaDiscovery(gateway: OperatedGateway, opts: HaDiscoveryOptions = {}): HaDiscoveryHandle {
  const log: Logger = gateway.rootLog.child({ component: 'ha-discovery' });
  const local = gateway.config.local_mqtt;
  if (!local) {
    log.info('local_mqtt is not configured: Home Assistant discovery is off');
    return { publishAll: async () => undefined, close: async () => undefined };
  }
  const base = local.base_topic;
  const prefix = opts.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX;
  const ctx: DiscoveryContext = { gatewayId: gateway.id, baseTopic: base, discoveryPrefix: prefix };
  if (opts.swVersion) ctx.swVersion = opts.swVersion;
  if (opts.configurationUrl) ctx.configurationUrl = opts.configurationUrl;
  if (opts.supportUrl) ctx.supportUrl = opts.supportUrl;
  const link = gateway.mqtt();
  /** Topics published per device (and zone), so a removal or a change can clear exactly those. */
  const published = new Map<string, string[]>();
  /** Devices whose per-entity topics of earlier versions were cleared since start (once each). */
  const migrated = new Set<string>();
  /** Parking zones seen in parking.zone events: sources of state with no registry entry. */
  const zones = new Set<string>();
  const registry = gateway.metrics.registry;
  const commands =
    (registry.getSingleMetric('portier_ha_commands_total') as Counter<'command' | 'result'> | undefined) ??
    new Counter({
      name: 'portier_ha_commands_total',
      help: 'Commands received on <base>/<device>/set, by command and result (ok, refused)',
      labelNames: ['command', 'result'] as const,
      registers: [registry],
    });

  const publish = async (topic: string, payload: string): Promise<void> => {
    try {
      await link.publish(topic, payload, { qos: 1, retain: true });
    } catch (err) {
      // The link is down: everything is published again when it comes back.
      log.debug({ err, topic }, 'discovery publish failed');
    }
  };

  const subjectOf = (rec: DeviceRecord): DiscoverySubject | undefined => {
    const def = gateway.drivers.get(rec.driver);
    if (!def || rec.config.enabled === false) return undefined;
    const s: DiscoverySubject = {
      id: rec.id,
      driver: rec.driver,
      events: def.events,
      canOpen: def.commands?.unlock !== undefined,
      localControl: rec.config.local_mqtt_control === true,
      toilet: rec.config.toilet === true || def.id.includes('toilet'),
    };
    if (typeof rec.config.name === 'string') s.name = rec.config.name;
    if (typeof rec.config.area === 'string') s.area = rec.config.area;
    return s;
  };

  /**
   * Publish the entities of `id` as one device-based discovery message, and clear any topic it had before that is
   * no longer used. The first time per device since start, the per-entity topics earlier versions used are cleared
   * first (empty retained payloads), so an upgraded install does not discover each entity twice.
   */
  const publishFor = async (id: string, entities: DiscoveryMessage[]): Promise<void> => {
    const msg = deviceDiscovery(ctx, entities);
    const topics = msg ? [msg.topic] : [];
    const stale = (published.get(id) ?? []).filter((t) => !topics.includes(t));
    if (topics.length) published.set(id, topics);
    else published.delete(id);
    if (msg && !migrated.has(id)) {
      migrated.add(id);
      await Promise.all(msg.entityTopics.map((t) => publish(t, '')));
    }
    await Promise.all([
      ...(msg ? [publish(msg.topic, JSON.stringify(msg.config))] : []),
      ...stale.map((t) => publish(t, '')),
    ]);
  };

  const publishDevice = async (id: string): Promise<void> => {
    const rec = gateway.store.devices.get(id);
    const subject = rec ? subjectOf(rec) : undefined;
    await publishFor(id, subject ? discoveryFor(ctx, subject) : []);
  };

  const publishAll = async (): Promise<void> => {
    if (link.state !== 'up') return;
    await publishFor('bridge', bridgeDiscovery(ctx));
    await Promise.all(gateway.store.devices.list().map((rec) => publishDevice(rec.id)));
    for (const id of published.keys()) {
      if (id !== 'bridge' && !gateway.store.devices.get(id) && !zones.has(id)) await publishFor(id, []);
    }
    for (const id of zones) await publishFor(id, zoneDiscovery(ctx, { id }));
    log.info({ devices: published.size - 1 }, 'Home Assistant discovery published');
  };

  const onCommand = async (topic: string, payload: Buffer): Promise<void> => {
    const id = topic.slice(base.length + 1, -'/set'.length);
    const parsed = commandPayload.safeParse(payload.toString('utf8').trim().toUpperCase());
    const host = gateway.hosts.get(id);
    const refuse = (reason: string) => {
      commands.inc({ command: parsed.success ? parsed.data : 'invalid', result: 'refused' });
      log.warn({ device: host ? id : undefined, reason }, 'set command refused');
    };
    if (!parsed.success) return refuse(`expected ${commandPayload.options.join(', ')}`);
    if (!host) return refuse('no such running device');
    const name = parsed.data === LOCK_PAYLOADS.lock ? 'lock' : 'unlock';
    if (!host.def.commands?.[name]) return refuse(`device has no ${name} command`);
    // The registry record is what the running device was started from; the setting's default is off.
    if (gateway.store.devices.get(id)?.config.local_mqtt_control !== true) {
      return refuse('local_mqtt_control is off for this lock');
    }
    try {
      if (name === 'unlock') recordOperatorOpen(gateway.store, id, 'home_assistant', MQTT_ACTOR);
      await host.command(name, {});
      commands.inc({ command: parsed.data, result: 'ok' });
      log.info({ device: id, command: parsed.data }, 'set command carried out');
    } catch (err) {
      refuse((err as Error).message);
    }
  };

  const offState = link.onState((s) => {
    if (s.state === 'up') void publishAll();
  });
  const offSet = link.subscribe(`${base}/+/set`, (t, p) => void onCommand(t, p), { qos: 1 });
  const offStatus = link.subscribe(`${prefix}/status`, (_t, p) => {
    if (p.toString('utf8').trim() === 'online') void publishAll();
  });
  const offBus = gateway.bus.on('event', (e) => {
    if (e.type === 'provisioning.change' && typeof e.data.device === 'string') {
      // While the link is down, publishAll clears removed devices when it comes back.
      if (link.state === 'up') void publishDevice(e.data.device);
    } else if (e.type === 'parking.zone' && !zones.has(e.dev) && !gateway.store.devices.get(e.dev)) {
      zones.add(e.dev);
      if (link.state === 'up') void publishFor(e.dev, zoneDiscovery(ctx, { id: e.dev }));
    }
  });
  if (link.state === 'up') void publishAll();

  return {
    publishAll,
    async close() {
      offBus();
      offState();
      offSet();
      offStatus();
    },
  };
}
