/**
 * Home Assistant's device-based MQTT discovery (HA 2024.11+, https://www.home-assistant.io/integrations/mqtt/
 * #device-discovery-payload): one retained config per device on `<prefix>/device/<object_id>/config` holding the
 * device (`dev`), the origin (`o`) and every entity of the device in `cmps`, each keyed by its object id with its
 * platform in `p`. Built from the per-entity messages of ha-discovery.ts, so the entities, their unique_ids and
 * their availability stay exactly what they were; `device` and `origin` move to the top, once per device.
 *
 * Ids as Home Assistant's docs advise: the topic's object_id is the device's identifier (`portier_<gateway>_<id>`,
 * from the character class [a-zA-Z0-9_-]), each component keeps its stable unique_id, and no `object_id` /
 * `default_entity_id` is set, so Home Assistant names the entities from the device and entity names.
 */
import { DEFAULT_DISCOVERY_PREFIX, type DiscoveryContext, type DiscoveryMessage, originOf } from './ha-discovery.js';

export interface DeviceDiscoveryMessage {
  topic: string;
  /** The discovery payload; publish as JSON with retain. */
  config: { dev: Record<string, unknown>; o: Record<string, string>; cmps: Record<string, Record<string, unknown>> };
  /** The per-entity config topics this replaces (cleared once when an install moves to device-based discovery). */
  entityTopics: string[];
}

/** The id the device's topic uses: its first identifier, kept to Home Assistant's character class. */
function deviceObjectId(dev: Record<string, unknown>): string {
  const ids = dev.identifiers;
  const first = Array.isArray(ids) ? ids[0] : ids;
  return String(first).replace(/[^a-zA-Z0-9_-]/g, '_');
}

/**
 * One device-based message for the entities of one device (all carry the same `device`); undefined for none.
 * Throws when the entities name different devices: a caller mixing devices is a bug.
 */
export function deviceDiscovery(
  ctx: DiscoveryContext,
  entities: readonly DiscoveryMessage[],
): DeviceDiscoveryMessage | undefined {
  if (entities.length === 0) return undefined;
  const dev = entities[0]!.config.device as Record<string, unknown>;
  const id = deviceObjectId(dev);
  const cmps: Record<string, Record<string, unknown>> = {};
  for (const e of entities) {
    const { device, origin: _origin, ...entity } = e.config;
    if (deviceObjectId(device as Record<string, unknown>) !== id) {
      throw new Error(`entity ${e.objectId} belongs to another device than ${id}`);
    }
    cmps[e.objectId] = { p: e.component, ...entity };
  }
  return {
    topic: `${ctx.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX}/device/${id}/config`,
    config: { dev, o: originOf(ctx), cmps },
    entityTopics: entities.map((e) => e.topic),
  };
}
