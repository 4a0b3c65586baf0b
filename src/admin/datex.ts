/**
 * DATEX II v2.3 ParkingStatusPublication for the gateway's parking zones: the dynamic parking format German cities
 * publish on Mobilithek (the national access point, formerly MDM), so a city data platform can read the gateway
 * directly.
 *
 * Shape, in the DATEX II v2 namespace (http://datex2.eu/schema/2/2_0, modelBaseVersion 2):
 * `d2LogicalModel` → `exchange/supplierIdentification` → `payloadPublication xsi:type="ParkingStatusPublication"`
 * (publicationTime, publicationCreator, headerInformation) → one `parkingRecordStatus xsi:type="ParkingSiteStatus"`
 * per zone with its `parkingRecordReference`, `parkingStatusOriginTime` (when the counts last changed),
 * `parkingOccupancy` (vacant and occupied spaces, occupancy %) and `parkingSiteStatus`. Element order follows the
 * v2.3 schema's sequences (DATEXIISchema_2_2_3.xsd: PayloadPublication, ParkingRecordStatus, ParkingOccupancy,
 * ParkingSiteStatus). The published v2.3 schema carries parking publications inside a GenericPublication
 * extension; Mobilithek's parking profile, as its feeds show, makes ParkingStatusPublication a payload of its own,
 * which is what this builds.
 */
import type { OperatedGateway } from './operated-gateway.js';

/** One zone as DATEX II sees it (a parking-zone device's `status`). */
export interface DatexZone {
  /** The parking record id (the zone's device id); the static ParkingTablePublication must use the same. */
  id: string;
  /** Version of the parking record, default 1. */
  version?: number;
  capacity: number;
  occupied: number;
  /** Spaces the gateway vouches for as free (bays with an unknown state are not counted free). */
  free: number;
  /** Member bays without a current state. */
  unknown?: number;
  /** ISO time the counts last changed. */
  updated: string;
}

export interface DatexOptions {
  /** ISO 3166-1 alpha-2 country of the supplier, lowercase as DATEX II v2's CountryEnum writes it; default "de". */
  country?: string;
  /** The supplier's identifier within its country (the town's Mobilithek publisher id); default the gateway id. */
  nationalIdentifier?: string;
  /** Language of the publication (xs:language), default "de". */
  lang?: string;
  /** When the publication was made; default now. */
  publicationTime?: Date;
  /** The static ParkingTablePublication the records belong to, when the town publishes one. */
  parkingTable?: { id: string; version: number };
}

const NS = 'http://datex2.eu/schema/2/2_0';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** Escape text and attribute values (the five XML specials). */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function el(name: string, text: string | number): string {
  return `<${name}>${xmlEscape(String(text))}</${name}>`;
}

/** spacesAvailable, full, or unknown when no bay of the zone has a known state. */
function siteStatus(z: DatexZone): 'spacesAvailable' | 'full' | 'unknown' {
  if (z.occupied + z.free === 0 && (z.unknown ?? 0) > 0) return 'unknown';
  return z.free > 0 ? 'spacesAvailable' : 'full';
}

function recordStatus(z: DatexZone): string {
  const status = siteStatus(z);
  const occupancy: string[] = [];
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
 * The publication as an XML string (UTF-8 declared). Needs at least one zone: DATEX II requires one
 * parkingRecordStatus per publication, so a gateway without zones has nothing to publish (throws RangeError).
 */
export function buildDatexParkingStatus(zones: readonly DatexZone[], opts: DatexOptions = {}): string {
  if (zones.length === 0) throw new RangeError('a ParkingStatusPublication needs at least one zone');
  const country = (opts.country ?? 'de').toLowerCase();
  if (!/^[a-z]{2}$/.test(country)) throw new RangeError(`country must be two letters, got "${country}"`);
  const supplier = `<country>${country}</country>${el('nationalIdentifier', opts.nationalIdentifier ?? 'portier')}`;
  const table = opts.parkingTable
    ? `<parkingTableReference targetClass="ParkingTable" id="${xmlEscape(opts.parkingTable.id)}" version="${opts.parkingTable.version}"/>`
    : '';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<d2LogicalModel xmlns="${NS}" xmlns:xsi="${XSI}" modelBaseVersion="2">`,
    `<exchange><supplierIdentification>${supplier}</supplierIdentification></exchange>`,
    `<payloadPublication xsi:type="ParkingStatusPublication" lang="${xmlEscape(opts.lang ?? 'de')}">`,
    el('publicationTime', (opts.publicationTime ?? new Date()).toISOString()),
    `<publicationCreator>${supplier}</publicationCreator>`,
    table,
    '<headerInformation><confidentiality>noRestriction</confidentiality><informationStatus>real</informationStatus></headerInformation>',
    ...zones.map(recordStatus),
    '</payloadPublication>',
    '</d2LogicalModel>',
    '',
  ].join('\n');
}

/** The `parking-zone` driver id, whose devices are the published zones. */
export const PARKING_ZONE_DRIVER = 'parking-zone';

/** The current status of every running parking zone of the gateway (from each zone's `status` command). */
export async function gatewayZones(gateway: Pick<OperatedGateway, 'hosts'>): Promise<DatexZone[]> {
  const zones: DatexZone[] = [];
  for (const [id, host] of gateway.hosts) {
    if (host.def.id !== PARKING_ZONE_DRIVER) continue;
    const s = (await host.command('status', {})) as Omit<DatexZone, 'id'> | undefined;
    if (s) zones.push({ ...s, id });
  }
  return zones.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The DATEX II ParkingStatusPublication of the gateway's zones, for the admin API (e.g. GET /datex/parking-status
 * with content type application/xml). Resolves to undefined when the gateway has no zone. The supplier's national
 * identifier defaults to the gateway id.
 */
export async function datexParkingStatus(
  gateway: Pick<OperatedGateway, 'id' | 'hosts'>,
  opts: DatexOptions = {},
): Promise<string | undefined> {
  const zones = await gatewayZones(gateway);
  if (zones.length === 0) return undefined;
  return buildDatexParkingStatus(zones, { nationalIdentifier: gateway.id, ...opts });
}
