/**
 * The gateway's DATEX II v2.3 parking publications against (1) our restatement of the v2.3 schema's element paths
 * and order and of the real German feeds' structure (fixtures/datex2-parking-structure.ts), (2) the hand-restated
 * schema subset validated by libxml2's xmllint (fixtures/datex2-parking-subset.xsd), and (3) an XPath reader of the
 * paths ParkAPI reads (test/helpers/datex-reader.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { buildDatexParkingStatus, type DatexRecord, xmlEscape } from '../../../src/admin/datex.js';
import { buildDatexParkingTable } from '../../../src/admin/datex-table.js';
import { readParkingStatus, readParkingTable, selectAll } from '../../helpers/datex-reader.js';
import { tempDir } from '../../helpers/tmp.js';
import {
  childPattern,
  STATUS_STRUCTURE,
  type Structure,
  TABLE_STRUCTURE,
} from './fixtures/datex2-parking-structure.js';

const XSD = join(import.meta.dirname, 'fixtures', 'datex2-parking-subset.xsd');
const NS = 'http://datex2.eu/schema/2/2_0';

const RECORDS: DatexRecord[] = [
  {
    id: 'marktplatz',
    capacity: 24,
    occupied: 18,
    free: 6,
    updated: '2025-05-02T07:14:09.120Z',
    name: { de: 'Marktplatz', en: 'Market square' },
    latitude: 47.6546,
    longitude: 9.4797,
  },
  // A disabled bay published on its own, as Friedrichshafen does.
  {
    id: 'marktplatz-behindert-1',
    capacity: 1,
    occupied: 0,
    free: 1,
    unknown: 0,
    updated: '2025-05-02T07:02:00.000Z',
    name: 'Behindertenparkplatz Marktplatz 1',
    latitude: 47.65471,
    longitude: 9.47982,
  },
  { id: 'bahnhof-p&r', capacity: 10, occupied: 10, free: 0, updated: '2025-05-02T07:10:00.000Z' },
  { id: 'schule', capacity: 4, occupied: 0, free: 0, unknown: 4, updated: '2025-05-02T06:00:00.000Z' },
];
const AT = new Date('2025-05-02T07:15:00Z');
const OPTS = { country: 'DE', nationalIdentifier: 'stadt-musterhausen', publicationTime: AT };

/** Every element path of the document whose children break the structure, with what was found. */
function structureErrors(xml: string, structure: Structure): string[] {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const errors: string[] = [];
  const visit = (e: Element, path: string): void => {
    if (e.namespaceURI !== NS) errors.push(`${path}: namespace ${e.namespaceURI}`);
    const kids = Array.from(e.childNodes).filter((n): n is Element => n.nodeType === 1);
    const expected = structure[path];
    if (expected === undefined) {
      if (kids.length > 0) errors.push(`${path}: unexpected children ${kids.map((k) => k.localName).join(',')}`);
      return;
    }
    const seen = kids.map((k) => `${k.localName},`).join('');
    if (!childPattern(expected).test(seen)) errors.push(`${path}: children ${seen} do not match ${expected.join(' ')}`);
    for (const k of kids) visit(k, `${path}/${k.localName}`);
  };
  visit(doc.documentElement as unknown as Element, (doc.documentElement as unknown as Element).localName);
  return errors;
}

function xmllint(xml: string): { ok: boolean; out: string } {
  const file = join(tempDir('portier-datex-'), 'pub.xml');
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint is needed for this test (apt-get install libxml2-utils): ${r.error.message}`);
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

const attr = (xml: string, expr: string, name: string) => selectAll(xml, expr)[0]?.getAttribute(name);
const text = (xml: string, expr: string) => selectAll(xml, expr).map((e) => e.textContent);

describe('DATEX II v2.3 ParkingStatusPublication (GenericPublication, as German feeds have it)', () => {
  const xml = buildDatexParkingStatus(RECORDS, OPTS);

  it('follows the element paths and order of the schema and the real feeds', () => {
    expect(structureErrors(xml, STATUS_STRUCTURE)).toEqual([]);
    expect(attr(xml, '/d:d2LogicalModel', 'modelBaseVersion')).toBe('2');
    expect(attr(xml, '/d:d2LogicalModel/d:payloadPublication', 'xsi:type')).toBe('GenericPublication');
    expect(text(xml, '//d:genericPublicationName')).toEqual(['ParkingStatusPublication']);
    expect(text(xml, '/d:d2LogicalModel/d:exchange/d:supplierIdentification/*')).toEqual(['de', 'stadt-musterhausen']);
  });

  it('gives every record capacity, vacant and occupied counts, occupancy % and when the counts changed', () => {
    const recs = selectAll(xml, '//d:parkingRecordStatus');
    expect(recs.map((r) => r.getAttribute('xsi:type'))).toEqual(Array(4).fill('ParkingSiteStatus'));
    const occ = (i: number) =>
      selectAll(xml, `//d:parkingRecordStatus[${i}]/d:parkingOccupancy/*`).map((e) => [e.localName, e.textContent]);
    expect(occ(1)).toEqual([
      ['parkingNumberOfSpacesOverride', '24'],
      ['parkingNumberOfVacantSpaces', '6'],
      ['parkingNumberOfOccupiedSpaces', '18'],
      ['parkingOccupancy', '75'],
    ]);
    expect(occ(2)).toEqual([
      ['parkingNumberOfSpacesOverride', '1'],
      ['parkingNumberOfVacantSpaces', '1'],
      ['parkingNumberOfOccupiedSpaces', '0'],
      ['parkingOccupancy', '0'],
    ]);
    // A zone whose bays have not reported yet publishes its capacity only, and that its status is unknown.
    expect(occ(4)).toEqual([['parkingNumberOfSpacesOverride', '4']]);
    expect(text(xml, '//d:parkingRecordStatus/d:parkingSiteStatus')).toEqual([
      'spacesAvailable',
      'spacesAvailable',
      'full',
      'unknown',
    ]);
    const ref = selectAll(xml, '//d:parkingRecordStatus[1]/d:parkingRecordReference')[0]!;
    expect([ref.getAttribute('targetClass'), ref.getAttribute('id'), ref.getAttribute('version')]).toEqual([
      'ParkingRecord',
      'marktplatz',
      '1',
    ]);
  });

  it('reads back through the paths ParkAPI uses', () => {
    expect(readParkingStatus(xml)).toEqual([
      { id: 'marktplatz', originTime: '2025-05-02T07:14:09.120Z', capacity: 24, vacant: 6 },
      { id: 'marktplatz-behindert-1', originTime: '2025-05-02T07:02:00.000Z', capacity: 1, vacant: 1 },
      // The id's & is escaped on the wire and comes back intact.
      { id: 'bahnhof-p&r', originTime: '2025-05-02T07:10:00.000Z', capacity: 10, vacant: 0 },
      { id: 'schule', originTime: '2025-05-02T06:00:00.000Z', capacity: 4, vacant: undefined },
    ]);
  });

  it('refers to the static parking table when one is given, before the header as the schema orders them', () => {
    const withTable = buildDatexParkingStatus(RECORDS.slice(0, 1), { parkingTable: { id: 'pt-1', version: 3 } });
    expect(structureErrors(withTable, STATUS_STRUCTURE)).toEqual([]);
    expect(
      selectAll(withTable, '//d:parkingStatusPublication/*')
        .map((e) => e.localName)
        .slice(0, 2),
    ).toEqual(['parkingTableReference', 'headerInformation']);
    expect(attr(withTable, '//d:parkingTableReference', 'targetClass')).toBe('ParkingTable');
    expect(xmllint(withTable).ok).toBe(true);
  });

  it('refuses to publish nothing and a country that is not two letters', () => {
    expect(() => buildDatexParkingStatus([])).toThrow(RangeError);
    expect(() => buildDatexParkingStatus(RECORDS, { country: 'DEU' })).toThrow(/two letters/);
  });

  it('escapes the five XML specials', () => {
    expect(xmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('validates against the DATEX II v2.3 subset schema with xmllint', () => {
    const r = xmllint(xml);
    expect(r.out).toContain('validates');
    expect(r.ok).toBe(true);
  });

  it('is checked by that schema and by the structure: the old bare payload, a missing or misplaced element fail', () => {
    // The shape the gateway wrote before: ParkingStatusPublication as the payload itself.
    const bare = xml
      .replace('xsi:type="GenericPublication"', 'xsi:type="ParkingStatusPublication"')
      .replace(/<genericPublicationName>.*?<genericPublicationExtension><parkingStatusPublication>/s, '')
      .replace('</parkingStatusPublication></genericPublicationExtension>', '');
    expect(xmllint(bare).ok).toBe(false);
    expect(structureErrors(bare, STATUS_STRUCTURE)).not.toEqual([]);
    const swapped = xml.replace(
      /(<parkingStatusOriginTime>.*?<\/parkingStatusOriginTime>)(<parkingOccupancy>.*?<\/parkingOccupancy>)/,
      '$2$1',
    );
    expect(xmllint(swapped).ok).toBe(false);
    expect(structureErrors(swapped, STATUS_STRUCTURE)).not.toEqual([]);
    const overrideLast = xml.replace(
      /<parkingNumberOfSpacesOverride>24<\/parkingNumberOfSpacesOverride>(.*?)<\/parkingOccupancy>/,
      '$1<parkingNumberOfSpacesOverride>24</parkingNumberOfSpacesOverride></parkingOccupancy>',
    );
    expect(xmllint(overrideLast).ok).toBe(false);
    expect(structureErrors(overrideLast, STATUS_STRUCTURE)).not.toEqual([]);
    const badEnum = xml.replace('<parkingSiteStatus>full<', '<parkingSiteStatus>voll<');
    expect(xmllint(badEnum).ok).toBe(false);
  });

  it('is well-formed for xmllint without a schema too', () => {
    const file = join(tempDir('portier-datex-'), 'wf.xml');
    writeFileSync(file, xml);
    expect(() => execFileSync('xmllint', ['--noout', file])).not.toThrow();
  });
});

describe('DATEX II v2.3 ParkingTablePublication', () => {
  const xml = buildDatexParkingTable(RECORDS, { ...OPTS, tableVersion: 2 });

  it('follows the element paths and order of the schema and the real feeds, and validates with xmllint', () => {
    expect(structureErrors(xml, TABLE_STRUCTURE)).toEqual([]);
    expect(attr(xml, '/d:d2LogicalModel/d:payloadPublication', 'xsi:type')).toBe('GenericPublication');
    expect(text(xml, '//d:genericPublicationName')).toEqual(['ParkingTablePublication']);
    expect(attr(xml, '//d:parkingTable', 'id')).toBe('stadt-musterhausen-parking');
    expect(attr(xml, '//d:parkingTable', 'version')).toBe('2');
    const r = xmllint(xml);
    expect(r.out).toContain('validates');
    expect(r.ok).toBe(true);
    execFileSync('xmllint', ['--noout', '-'], { input: xml });
  });

  it('names the same records as the status publication, with names, spaces and location', () => {
    const table = readParkingTable(xml);
    expect(table.map((r) => r.id)).toEqual(readParkingStatus(buildDatexParkingStatus(RECORDS, OPTS)).map((r) => r.id));
    expect(table).toEqual([
      { id: 'marktplatz', names: { de: 'Marktplatz', en: 'Market square' }, capacity: 24, lat: 47.6546, lon: 9.4797 },
      {
        id: 'marktplatz-behindert-1',
        names: { de: 'Behindertenparkplatz Marktplatz 1' },
        capacity: 1,
        lat: 47.65471,
        lon: 9.47982,
      },
      // Without a configured name the record id names it; without coordinates there is no location.
      { id: 'bahnhof-p&r', names: { de: 'bahnhof-p&r' }, capacity: 10, lat: undefined, lon: undefined },
      { id: 'schule', names: { de: 'schule' }, capacity: 4, lat: undefined, lon: undefined },
    ]);
    expect(attr(xml, '//d:parkingRecord[1]', 'xsi:type')).toBe('UrbanParkingSite');
    expect(attr(xml, '//d:parkingRecord[1]/d:parkingLocation', 'xsi:type')).toBe('Point');
  });

  it('is checked by the schema and the structure: a location before the spaces fails', () => {
    const swapped = xml.replace(
      /(<parkingNumberOfSpaces>24<\/parkingNumberOfSpaces>)(<parkingLocation.*?<\/parkingLocation>)/,
      '$2$1',
    );
    expect(swapped).not.toBe(xml);
    expect(xmllint(swapped).ok).toBe(false);
    expect(structureErrors(swapped, TABLE_STRUCTURE)).not.toEqual([]);
  });
});
