/**
 * The frame every DATEX II v2.3 publication of the gateway shares, in the shape German parking feeds on Mobilithek
 * have (Friedrichshafen's per-bay sensors, the Stuttgart region's P+R sites): `d2LogicalModel` (namespace
 * http://datex2.eu/schema/2/2_0, modelBaseVersion 2) → `exchange/supplierIdentification` → `payloadPublication
 * xsi:type="GenericPublication"` (publicationTime, publicationCreator, genericPublicationName,
 * genericPublicationExtension) holding a `parkingStatusPublication` or a `parkingTablePublication`: the v2.3
 * schema's parking extension of GenericPublication, and the path consumers such as ParkAPI read.
 */

/** One published parking record: a zone, or a single bay a town publishes on its own (capacity 1). */
export interface DatexRecord {
  /** The parking record id (zone device id, or the bay); the same in the table and the status publication. */
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
  /** Name in the parking table: one string in the publication's language, or per language. */
  name?: string | Record<string, string>;
  /** WGS 84 degrees. */
  latitude?: number;
  longitude?: number;
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
  /** The static ParkingTablePublication the records belong to (its id and version); default none. */
  parkingTable?: { id: string; version: number };
}

export const DATEX_NS = 'http://datex2.eu/schema/2/2_0';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** Escape text and attribute values (the five XML specials). */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** `<name>text</name>` with the text escaped. */
export function el(name: string, text: string | number): string {
  return `<${name}>${xmlEscape(String(text))}</${name}>`;
}

/** `headerInformation` of a public, real publication. */
export const HEADER =
  '<headerInformation><confidentiality>noRestriction</confidentiality><informationStatus>real</informationStatus></headerInformation>';

/**
 * The whole document around one GenericPublication extension (`inner`, e.g. `<parkingStatusPublication>…`).
 * Throws RangeError for a country that is not two letters.
 */
export function genericPublication(name: string, inner: string, opts: DatexOptions): string {
  const country = (opts.country ?? 'de').toLowerCase();
  if (!/^[a-z]{2}$/.test(country)) throw new RangeError(`country must be two letters, got "${country}"`);
  const supplier = `<country>${country}</country>${el('nationalIdentifier', opts.nationalIdentifier ?? 'portier')}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<d2LogicalModel xmlns="${DATEX_NS}" xmlns:xsi="${XSI}" modelBaseVersion="2">`,
    `<exchange><supplierIdentification>${supplier}</supplierIdentification></exchange>`,
    `<payloadPublication xsi:type="GenericPublication" lang="${xmlEscape(opts.lang ?? 'de')}">`,
    el('publicationTime', (opts.publicationTime ?? new Date()).toISOString()),
    `<publicationCreator>${supplier}</publicationCreator>`,
    el('genericPublicationName', name),
    `<genericPublicationExtension>${inner}</genericPublicationExtension>`,
    '</payloadPublication>',
    '</d2LogicalModel>',
    '',
  ].join('\n');
}
