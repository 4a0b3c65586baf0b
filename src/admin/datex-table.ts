/**
 * The static DATEX II v2.3 ParkingTablePublication of the gateway's records (datex.ts publishes their status): a
 * GenericPublication whose extension holds `parkingTablePublication/parkingTable/parkingRecord`, one per zone and
 * published bay, with the same record ids as the status publication, the name as a multilingual string
 * (`parkingName/values/value lang`), `parkingNumberOfSpaces` and, when configured, `parkingLocation xsi:type="Point"`
 * (`pointByCoordinates/pointCoordinates/latitude, longitude`). Element order follows the v2.3 schema's sequences
 * (ParkingTablePublication, ParkingTable, ParkingRecord, Point).
 */
import { type DatexOptions, type DatexRecord, el, genericPublication, HEADER, xmlEscape } from './datex-xml.js';

/** The table's own id and version; the status publication refers to it by them (`parkingTableReference`). */
export interface DatexTableOptions extends DatexOptions {
  /** Table id, default "<nationalIdentifier>-parking". */
  tableId?: string;
  /** Table version, default 1. */
  tableVersion?: number;
}

function multilingual(name: string | Record<string, string>, lang: string): string {
  const byLang = typeof name === 'string' ? { [lang]: name } : name;
  const values = Object.entries(byLang).map(([l, v]) => `<value lang="${xmlEscape(l)}">${xmlEscape(v)}</value>`);
  return `<values>${values.join('')}</values>`;
}

function parkingRecord(r: DatexRecord, lang: string, versionTime: string): string {
  const location =
    r.latitude !== undefined && r.longitude !== undefined
      ? `<parkingLocation xsi:type="Point"><pointByCoordinates><pointCoordinates>${el('latitude', r.latitude)}${el('longitude', r.longitude)}</pointCoordinates></pointByCoordinates></parkingLocation>`
      : '';
  return [
    `<parkingRecord xsi:type="UrbanParkingSite" id="${xmlEscape(r.id)}" version="${r.version ?? 1}">`,
    `<parkingName>${multilingual(r.name ?? r.id, lang)}</parkingName>`,
    el('parkingRecordVersionTime', versionTime),
    el('parkingNumberOfSpaces', r.capacity),
    location,
    '</parkingRecord>',
  ].join('');
}

/** The table publication as an XML string. Throws RangeError without records, as the status publication does. */
export function buildDatexParkingTable(records: readonly DatexRecord[], opts: DatexTableOptions = {}): string {
  if (records.length === 0) throw new RangeError('a ParkingTablePublication needs at least one zone');
  const lang = opts.lang ?? 'de';
  const time = (opts.publicationTime ?? new Date()).toISOString();
  const id = opts.tableId ?? `${opts.nationalIdentifier ?? 'portier'}-parking`;
  const inner = [
    `<parkingTablePublication>${HEADER}`,
    `<parkingTable id="${xmlEscape(id)}" version="${opts.tableVersion ?? 1}">`,
    el('parkingTableVersionTime', time),
    ...records.map((r) => parkingRecord(r, lang, time)),
    '</parkingTable></parkingTablePublication>',
  ].join('\n');
  return genericPublication('ParkingTablePublication', inner, opts);
}
