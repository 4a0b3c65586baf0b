/**
 * What the DATEX II publications publish: each running parking zone (its `status` command: counts, when they
 * changed, `datex_name`, coordinates) and, after each zone, the bays whose own settings say `datex_publish: true`
 * (their state and change time from their zone, the one that counts them; name and coordinates from their settings).
 */
import type { DatexRecord } from './datex-xml.js';
import type { OperatedGateway } from './operated-gateway.js';

export type DatexGateway = Pick<OperatedGateway, 'id' | 'hosts' | 'store'>;

/** The `parking-zone` driver id, whose devices are the published zones. */
export const PARKING_ZONE_DRIVER = 'parking-zone';

/** A member bay's state, as the parking-zone driver's `status {bays}` returns it (devices/parking/parking-zone.ts). */
interface BayStatus {
  id: string;
  state: 'occupied' | 'free' | 'unknown';
  updated: string;
}

/** What a parking-zone device's `status` command returns. */
type ZoneStatus = Omit<DatexRecord, 'id' | 'version'> & { zone: string; bays?: BayStatus[] };

/** A bay to publish: its device id, the key its zone counts it under, and its settings. */
interface PublishedBay {
  dev: string;
  key: string;
  config: Record<string, unknown>;
}

/**
 * Bays with `datex_publish: true`, by zone. The zone a bay belongs to, and the key it is counted under, follow the
 * zone's own rule: listed by device id, else listed by bay name, else the bay names the zone in its `zone` setting.
 */
function publishedBays(gateway: Pick<DatexGateway, 'store'>): Map<string, PublishedBay[]> {
  const records = gateway.store.devices.list().filter((r) => r.config.enabled !== false);
  const listedIn = new Map<string, string>();
  for (const r of records) {
    if (r.driver !== PARKING_ZONE_DRIVER || !Array.isArray(r.config.bays)) continue;
    for (const bay of r.config.bays) if (typeof bay === 'string') listedIn.set(bay, r.id);
  }
  const byZone = new Map<string, PublishedBay[]>();
  for (const r of records) {
    if (r.config.datex_publish !== true) continue;
    const bayName = typeof r.config.bay === 'string' ? r.config.bay : undefined;
    let zone: string | undefined;
    let key = r.id;
    if (listedIn.has(r.id)) zone = listedIn.get(r.id);
    else if (bayName !== undefined && listedIn.has(bayName)) [zone, key] = [listedIn.get(bayName), bayName];
    else if (typeof r.config.zone === 'string') zone = r.config.zone;
    if (zone === undefined) continue;
    byZone.set(zone, [...(byZone.get(zone) ?? []), { dev: r.id, key, config: r.config }]);
  }
  return byZone;
}

function bayRecord(bay: PublishedBay, s: BayStatus): DatexRecord {
  const { config } = bay;
  const record: DatexRecord = {
    id: bay.dev,
    capacity: 1,
    occupied: s.state === 'occupied' ? 1 : 0,
    free: s.state === 'free' ? 1 : 0,
    unknown: s.state === 'unknown' ? 1 : 0,
    updated: s.updated,
  };
  const name = config.datex_name ?? config.bay;
  // Validated by the bay's settings schema: a string, or strings by language.
  if (typeof name === 'string' || (typeof name === 'object' && name !== null)) {
    record.name = name as string | Record<string, string>;
  }
  if (typeof config.latitude === 'number' && typeof config.longitude === 'number') {
    record.latitude = config.latitude;
    record.longitude = config.longitude;
  }
  return record;
}

/** Every published record of the gateway: each zone, then the bays it counts that are published; zones by id. */
export async function gatewayRecords(gateway: Pick<DatexGateway, 'hosts' | 'store'>): Promise<DatexRecord[]> {
  const bays = publishedBays(gateway);
  const zones: DatexRecord[][] = [];
  const ids = [...gateway.hosts].filter(([, h]) => h.def.id === PARKING_ZONE_DRIVER).map(([id]) => id);
  for (const id of ids.sort((a, b) => a.localeCompare(b))) {
    const own = bays.get(id) ?? [];
    const s = (await gateway.hosts.get(id)!.command('status', { bays: own.map((b) => b.key) })) as
      | ZoneStatus
      | undefined;
    if (!s) continue;
    const { zone: _zone, bays: states, ...counts } = s;
    const byKey = new Map((states ?? []).map((b) => [b.id, b]));
    zones.push([{ ...counts, id }, ...own.flatMap((b) => (byKey.has(b.key) ? [bayRecord(b, byKey.get(b.key)!)] : []))]);
  }
  return zones.flat();
}
