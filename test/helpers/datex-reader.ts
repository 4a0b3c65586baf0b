/**
 * An XPath reader of DATEX II v2.3 parking feeds, independent of the gateway's writer: @xmldom/xmldom parses, the
 * `xpath` library evaluates, with the namespace http://datex2.eu/schema/2/2_0 bound to `d` and xsi to `xsi`.
 *
 * The paths restate what ParkAPI's DATEX II converters read (ParkenDD's ParkAPI v3, `parkapi-sources` package,
 * Python with lxml): a GenericPublication's `genericPublicationExtension/parkingStatusPublication/
 * parkingRecordStatus` with `parkingRecordReference@id`, `parkingStatusOriginTime`,
 * `parkingOccupancy/parkingNumberOfSpacesOverride` and `parkingOccupancy/parkingNumberOfVacantSpaces`; and from the
 * table, `parkingTablePublication/parkingTable/parkingRecord@id` with `parkingName/values/value[@lang]`,
 * `parkingNumberOfSpaces` and `parkingLocation/pointByCoordinates/pointCoordinates/latitude|longitude`. The paths
 * are written here from that description, not copied from ParkAPI's source.
 */
import { DOMParser } from '@xmldom/xmldom';
import * as xpath from 'xpath';

const select = xpath.useNamespaces({
  d: 'http://datex2.eu/schema/2/2_0',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
});

/** The GenericPublication's extension; xsi:type may carry a prefix (`D2LogicalModel:GenericPublication`). */
const EXTENSION =
  '/d:d2LogicalModel/d:payloadPublication[@xsi:type = "GenericPublication" or substring-after(@xsi:type, ":") = "GenericPublication"]/d:genericPublicationExtension';

function parse(xml: string): Node {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => level !== 'warning' && errors.push(msg) }).parseFromString(
    xml,
    'text/xml',
  );
  if (errors.length > 0) throw new Error(`not well-formed: ${errors.join('; ')}`);
  return doc as unknown as Node;
}

const str = (expr: string, node: Node): string => select(`string(${expr})`, node, true) as unknown as string;
const num = (expr: string, node: Node): number | undefined => {
  const s = str(expr, node);
  return s === '' ? undefined : Number(s);
};

export interface ReadStatus {
  id: string;
  originTime: string;
  capacity: number | undefined;
  vacant: number | undefined;
}

/** The records of a parking status feed, by the paths ParkAPI reads. */
export function readParkingStatus(xml: string): ReadStatus[] {
  const doc = parse(xml);
  const records = select(`${EXTENSION}/d:parkingStatusPublication/d:parkingRecordStatus`, doc) as Node[];
  return records.map((r) => ({
    id: str('d:parkingRecordReference/@id', r),
    originTime: str('d:parkingStatusOriginTime', r),
    capacity: num('d:parkingOccupancy/d:parkingNumberOfSpacesOverride', r),
    vacant: num('d:parkingOccupancy/d:parkingNumberOfVacantSpaces', r),
  }));
}

export interface ReadRecord {
  id: string;
  /** name by language */
  names: Record<string, string>;
  capacity: number | undefined;
  lat: number | undefined;
  lon: number | undefined;
}

/** The records of a parking table feed, by the paths ParkAPI reads. */
export function readParkingTable(xml: string): ReadRecord[] {
  const doc = parse(xml);
  const records = select(`${EXTENSION}/d:parkingTablePublication/d:parkingTable/d:parkingRecord`, doc) as Node[];
  const point = 'd:parkingLocation/d:pointByCoordinates/d:pointCoordinates';
  return records.map((r) => ({
    id: str('@id', r),
    names: Object.fromEntries(
      (select('d:parkingName/d:values/d:value', r) as Element[]).map((v) => [
        v.getAttribute('lang') ?? '',
        v.textContent ?? '',
      ]),
    ),
    capacity: num('d:parkingNumberOfSpaces', r),
    lat: num(`${point}/d:latitude`, r),
    lon: num(`${point}/d:longitude`, r),
  }));
}

/** The element names of a node's element children, in document order (for the structure fixture's checks). */
export function childNames(node: Node): string[] {
  return (select('*', node) as Element[]).map((e) => e.localName);
}

/** Every element the (namespace-bound) XPath selects. */
export function selectAll(xml: string, expr: string): Element[] {
  return select(expr, parse(xml)) as Element[];
}
