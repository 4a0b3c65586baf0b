/**
 * DATEX II v2.3 parking publications of the gateway's zones (and of the single bays a town publishes), the formats
 * German cities publish on Mobilithek (the national access point), so a city data platform or ParkAPI can read the
 * gateway directly: the dynamic ParkingStatusPublication here, the static ParkingTablePublication in
 * datex-table.ts, both inside a GenericPublication (datex-xml.ts).
 *
 * Each `parkingRecordStatus xsi:type="ParkingSiteStatus"` carries `parkingRecordReference` (the record id the table
 * uses), `parkingStatusOriginTime` (when the counts last changed), `parkingOccupancy` (capacity as
 * `parkingNumberOfSpacesOverride`, vacant and occupied spaces, occupancy %) and `parkingSiteStatus`. Element order
 * follows the v2.3 schema's sequences (DATEXIISchema_2_2_3.xsd: ParkingStatusPublication, ParkingRecordStatus,
 * ParkingOccupancy, ParkingSiteStatus).
 */

import { buildDatexParkingTable, type DatexTableOptions } from './datex-table.js';
import { type DatexOptions, type DatexRecord, el, genericPublication, HEADER, xmlEscape } from './datex-xml.js';
import type { OperatedGateway } from './operated-gateway.js';

export type { DatexOptions, DatexRecord } from './datex-xml.js';
export { xmlEscape } from './datex-xml.js';
/** A zone as DATEX II sees it (kept as a name for the records the status and table publications share). */
export type DatexZone = DatexRecord;

/** A bay a zone publishes on its own (the parking-zone driver's `status`, devices/parking/parking-zone.ts). */
interface PublishedBayStatus extends Pick<DatexRecord, 'name' | 'latitude' | 'longitude'> {
  id: string;
  state: 'occupied' | 'free' | 'unknown';
  updated: string;
}

/** What a parking-zone device's `status` command returns. */
type ZoneStatus = Omit<DatexRecord, 'id' | 'version'> & { zone: string; bays?: PublishedBayStatus[] };

/** spacesAvailable, full, or unknown when no bay of the record has a known state. */
function siteStatus(z: DatexRecord): 'spacesAvailable' | 'full' | 'unknown' {
  if (z.occupied + z.free === 0 && (z.unknown ?? 0) > 0) return 'unknown';
  return z.free > 0 ? 'spacesAvailable' : 'full';
}

function recordStatus(z: DatexRecord): string {
  const status = siteStatus(z);
  const occupancy = [el('parkingNumberOfSpacesOverride', z.capacity)];
  if (status !== 'unknown') {
    occupancy.push(el('parkingNumberOfVacantSpaces', z.free), el('parkingNumberOfOccupiedSpaces', z.occupied));
    const pct = z.capacity > 0 ? Math.min(100, Math.round((z.occupied / z.capacity) * 1000) / 10) : 0;
    occupancy.push(el('parkingOccupancy', pct));
  }
  return [
    '<parkingRecordStatus xsi:type="ParkingSiteStatus">',
    `<parkingRecordReference targetClass="ParkingRecord" id="${xmlEscape(z.id)}" version="${z.version ?? 1}"/>`,
    el('parkingStatusOriginTime', new Date(z.updated).toISOString()),
    `<parkingOccupancy>${occupancy.join('')}</parkingOccupancy>`,
    el('parkingSiteStatus', status),
    '</parkingRecordStatus>',
  ].join('');
}

/**
 * The status publication as an XML string (UTF-8 declared). Needs at least one record: a gateway without zones has
 * nothing to publish (throws RangeError), as it does for a country that is not two letters.
 */
export function buildDatexParkingStatus(records: readonly DatexRecord[], opts: DatexOptions = {}): string {
  if (records.length === 0) throw new RangeError('a ParkingStatusPublication needs at least one zone');
  const table = opts.parkingTable
    ? `<parkingTableReference targetClass="ParkingTable" id="${xmlEscape(opts.parkingTable.id)}" version="${opts.parkingTable.version}"/>`
    : '';
  const inner = `<parkingStatusPublication>${table}${HEADER}\n${records.map(recordStatus).join('\n')}\n</parkingStatusPublication>`;
  return genericPublication('ParkingStatusPublication', inner, opts);
}

/** The `parking-zone` driver id, whose devices are the published zones. */
export const PARKING_ZONE_DRIVER = 'parking-zone';

function bayRecord(b: PublishedBayStatus): DatexRecord {
  const { id, state, updated, ...place } = b;
  return {
    id,
    capacity: 1,
    occupied: state === 'occupied' ? 1 : 0,
    free: state === 'free' ? 1 : 0,
    unknown: state === 'unknown' ? 1 : 0,
    updated,
    ...place,
  };
}

/**
 * Every published record of the gateway, from each running zone's `status` command: the zone, then the bays it
 * publishes on their own; zones in id order.
 */
export async function gatewayRecords(gateway: Pick<OperatedGateway, 'hosts'>): Promise<DatexRecord[]> {
  const zones: Array<[string, ZoneStatus]> = [];
  for (const [id, host] of gateway.hosts) {
    if (host.def.id !== PARKING_ZONE_DRIVER) continue;
    const s = (await host.command('status', {})) as ZoneStatus | undefined;
    if (s) zones.push([id, s]);
  }
  zones.sort(([a], [b]) => a.localeCompare(b));
  return zones.flatMap(([id, { zone: _zone, bays, ...counts }]) => [{ ...counts, id }, ...(bays ?? []).map(bayRecord)]);
}

/**
 * The ParkingStatusPublication of the gateway's zones, for GET /datex/parking-status. Resolves to undefined when
 * the gateway has no zone. The supplier's national identifier defaults to the gateway id.
 */
export async function datexParkingStatus(
  gateway: Pick<OperatedGateway, 'id' | 'hosts'>,
  opts: DatexOptions = {},
): Promise<string | undefined> {
  const records = await gatewayRecords(gateway);
  if (records.length === 0) return undefined;
  return buildDatexParkingStatus(records, { nationalIdentifier: gateway.id, ...opts });
}

/** The ParkingTablePublication of the gateway's records, for GET /datex/parking-table; undefined without zones. */
export async function datexParkingTable(
  gateway: Pick<OperatedGateway, 'id' | 'hosts'>,
  opts: DatexTableOptions = {},
): Promise<string | undefined> {
  const records = await gatewayRecords(gateway);
  if (records.length === 0) return undefined;
  return buildDatexParkingTable(records, { nationalIdentifier: gateway.id, ...opts });
}
