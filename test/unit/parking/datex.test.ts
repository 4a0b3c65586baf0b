import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDatexParkingStatus, type DatexZone, xmlEscape } from '../../../src/admin/datex.js';
import { tempDir } from '../../helpers/tmp.js';

const XSD = join(import.meta.dirname, 'fixtures', 'datex2-parking-status-subset.xsd');

interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

/** A small XML reader for the test's own assertions (elements, attributes, text; no DTDs or CDATA). */
function parseXml(xml: string): Node {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const root: Node = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: Node[] = [root];
  const re = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  const decode = (s: string) =>
    s.replace(
      /&(lt|gt|quot|apos|amp);/g,
      (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!,
    );
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const [, close, name, attrText, selfClose, text] = m;
    const top = stack.at(-1)!;
    if (text !== undefined) {
      top.text += decode(text.trim());
      continue;
    }
    if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([\w.:-]+)="([^"]*)"/g)) attrs[a[1]!] = decode(a[2]!);
    const node: Node = { name: name!, attrs, children: [], text: '' };
    top.children.push(node);
    if (!selfClose) stack.push(node);
  }
  if (stack.length !== 1) throw new Error('unclosed elements');
  return root.children[0]!;
}

const child = (n: Node, name: string) => n.children.find((c) => c.name === name);
const names = (n: Node) => n.children.map((c) => c.name);

const ZONES: DatexZone[] = [
  { id: 'marktplatz', capacity: 24, occupied: 18, free: 6, updated: '2025-05-02T07:14:09.120Z' },
  { id: 'bahnhof-p&r', capacity: 10, occupied: 10, free: 0, updated: '2025-05-02T07:10:00.000Z' },
  { id: 'schule', capacity: 4, occupied: 0, free: 0, unknown: 4, updated: '2025-05-02T06:00:00.000Z' },
];
const AT = new Date('2025-05-02T07:15:00Z');

function xmllint(xml: string): { ok: boolean; out: string } {
  const file = join(tempDir('portier-datex-'), 'status.xml');
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint is needed for this test (apt-get install libxml2-utils): ${r.error.message}`);
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe('DATEX II v2.3 ParkingStatusPublication', () => {
  const xml = buildDatexParkingStatus(ZONES, {
    country: 'DE',
    nationalIdentifier: 'stadt-musterhausen',
    publicationTime: AT,
  });
  const doc = parseXml(xml);

  it('is a d2LogicalModel in the DATEX II v2 namespace with the exchange first', () => {
    expect(doc.name).toBe('d2LogicalModel');
    expect(doc.attrs).toMatchObject({
      xmlns: 'http://datex2.eu/schema/2/2_0',
      'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      modelBaseVersion: '2',
    });
    expect(names(doc)).toEqual(['exchange', 'payloadPublication']);
    const supplier = child(child(doc, 'exchange')!, 'supplierIdentification')!;
    expect(names(supplier)).toEqual(['country', 'nationalIdentifier']);
    expect(child(supplier, 'country')!.text).toBe('de');
    expect(child(supplier, 'nationalIdentifier')!.text).toBe('stadt-musterhausen');
  });

  it('carries a ParkingStatusPublication with its header and one ParkingSiteStatus per zone, in schema order', () => {
    const pub = child(doc, 'payloadPublication')!;
    expect(pub.attrs).toEqual({ 'xsi:type': 'ParkingStatusPublication', lang: 'de' });
    expect(names(pub)).toEqual([
      'publicationTime',
      'publicationCreator',
      'headerInformation',
      'parkingRecordStatus',
      'parkingRecordStatus',
      'parkingRecordStatus',
    ]);
    expect(child(pub, 'publicationTime')!.text).toBe('2025-05-02T07:15:00.000Z');
    const records = pub.children.filter((c) => c.name === 'parkingRecordStatus');
    for (const r of records) {
      expect(r.attrs['xsi:type']).toBe('ParkingSiteStatus');
      expect(names(r)).toEqual([
        'parkingRecordReference',
        'parkingStatusOriginTime',
        'parkingOccupancy',
        'parkingSiteStatus',
      ]);
    }
    const [markt, bahnhof, schule] = records as [Node, Node, Node];
    expect(child(markt, 'parkingRecordReference')!.attrs).toEqual({
      targetClass: 'ParkingRecord',
      id: 'marktplatz',
      version: '1',
    });
    expect(child(markt, 'parkingStatusOriginTime')!.text).toBe('2025-05-02T07:14:09.120Z');
    const occ = child(markt, 'parkingOccupancy')!;
    expect(occ.children.map((c) => [c.name, c.text])).toEqual([
      ['parkingNumberOfVacantSpaces', '6'],
      ['parkingNumberOfOccupiedSpaces', '18'],
      ['parkingOccupancy', '75'],
    ]);
    expect(child(markt, 'parkingSiteStatus')!.text).toBe('spacesAvailable');
    // The id's & is escaped on the wire and comes back intact.
    expect(child(bahnhof, 'parkingRecordReference')!.attrs.id).toBe('bahnhof-p&r');
    expect(child(bahnhof, 'parkingSiteStatus')!.text).toBe('full');
    // A zone whose bays have not reported yet publishes no numbers, only that its status is unknown.
    expect(child(schule, 'parkingOccupancy')!.children).toEqual([]);
    expect(child(schule, 'parkingSiteStatus')!.text).toBe('unknown');
  });

  it('refers to the static parking table when one is given', () => {
    const withTable = parseXml(
      buildDatexParkingStatus(ZONES.slice(0, 1), { parkingTable: { id: 'pt-1', version: 3 } }),
    );
    const pub = child(withTable, 'payloadPublication')!;
    expect(names(pub).slice(2, 4)).toEqual(['parkingTableReference', 'headerInformation']);
    expect(child(pub, 'parkingTableReference')!.attrs).toEqual({
      targetClass: 'ParkingTable',
      id: 'pt-1',
      version: '3',
    });
  });

  it('refuses to publish nothing and a country that is not two letters', () => {
    expect(() => buildDatexParkingStatus([])).toThrow(RangeError);
    expect(() => buildDatexParkingStatus(ZONES, { country: 'DEU' })).toThrow(/two letters/);
  });

  it('escapes the five XML specials', () => {
    expect(xmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('validates against the DATEX II v2.3 subset schema with xmllint', () => {
    const r = xmllint(xml);
    expect(r.out).toContain('validates');
    expect(r.ok).toBe(true);
    expect(xmllint(buildDatexParkingStatus(ZONES, { parkingTable: { id: 'pt', version: 1 } })).ok).toBe(true);
  });

  it('is checked by that schema: a record without parkingOccupancy, or out of order, fails validation', () => {
    const missing = xml.replace(/<parkingOccupancy>.*?<\/parkingOccupancy>/, '');
    expect(xmllint(missing).ok).toBe(false);
    const swapped = xml.replace(
      /(<parkingStatusOriginTime>.*?<\/parkingStatusOriginTime>)(<parkingOccupancy>.*?<\/parkingOccupancy>)/,
      '$2$1',
    );
    expect(xmllint(swapped).ok).toBe(false);
    const badEnum = xml.replace(
      '<parkingSiteStatus>full</parkingSiteStatus>',
      '<parkingSiteStatus>voll</parkingSiteStatus>',
    );
    expect(xmllint(badEnum).ok).toBe(false);
  });

  it('is well-formed for xmllint without a schema too', () => {
    const file = join(tempDir('portier-datex-'), 'wf.xml');
    writeFileSync(file, xml);
    expect(() => execFileSync('xmllint', ['--noout', file])).not.toThrow();
  });
});
