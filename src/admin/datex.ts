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

import { type DatexGateway, gatewayRecords } from './datex-source.js';
import { buildDatexParkingTable, type DatexTableOptions } from './datex-table.js';
import { type DatexOptions, type DatexRecord, el, genericPublication, HEADER, xmlEscape } from './datex-xml.js';

export { gatewayRecords } from './datex-source.js';
export type { DatexOptions, DatexRecord } from './datex-xml.js';
export { xmlEscape } from './datex-xml.js';
/** A zone as DATEX II sees it (kept as a name for the records the status and table publications share). */
export type DatexZone = DatexRecord;

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

/**
 * The ParkingStatusPublication of the gateway's zones, for GET /datex/parking-status. Resolves to undefined when
 * the gateway has no zone. The supplier's national identifier defaults to the gateway id.
 */
export async function datexParkingStatus(gateway: DatexGateway, opts: DatexOptions = {}): Promise<string | undefined> {
  const records = await gatewayRecords(gateway);
  if (records.length === 0) return undefined;
  return buildDatexParkingStatus(records, { nationalIdentifier: gateway.id, ...opts });
}

/** The ParkingTablePublication of the gateway's records, for GET /datex/parking-table; undefined without zones. */
export async function datexParkingTable(
  gateway: DatexGateway,
  opts: DatexTableOptions = {},
): Promise<string | undefined> {
  const records = await gatewayRecords(gateway);
  if (records.length === 0) return undefined;
  return buildDatexParkingTable(records, { nationalIdentifier: gateway.id, ...opts });
}
