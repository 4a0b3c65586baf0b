import { z } from 'zod';
import { NGSI_LD_TYPES, type NgsiLdType, toKeyValues } from './ngsi-ld.js';
import type { NgsiLdSource } from './ngsi-ld-source.js';
import { type AnyRoute, defineRoute } from './route.js';

/** NGSI-LD's query parameters as ETSI GS CIM 009 names them (the subset a read-only source needs). */
const entitiesQuery = z
  .object({
    /** One type or several, comma-separated. */
    type: z
      .string()
      .optional()
      .transform((s) => (s === undefined ? undefined : s.split(',').map((t) => t.trim())))
      .refine((ts) => ts === undefined || ts.every((t) => (NGSI_LD_TYPES as readonly string[]).includes(t)), {
        message: `expected one or more of ${NGSI_LD_TYPES.join(', ')}, comma-separated`,
      }),
    /** `keyValues` (or its newer name `simplified`) for the simplified form; comma-separated options. */
    options: z.string().optional(),
    /** NGSI-LD 1.6's spelling of the form: `simplified` or `normalized`. */
    format: z.enum(['normalized', 'simplified', 'keyValues']).optional(),
    /** Entities per page, 1-1000; 20 unless given, as the specification defaults it. */
    limit: z.coerce.number().int().min(1).max(1000).default(20),
    offset: z.coerce.number().int().min(0).default(0),
    /** `true`: the total in the NGSILD-Results-Count header. */
    count: z.enum(['true', 'false']).optional(),
  })
  .strict();

/**
 * The gateway's bays, zones and weather stations as NGSI-LD entities (Smart Data Models ParkingSpot,
 * OffStreetParking, WeatherObserved), read the way a context broker's `GET /ngsi-ld/v1/entities` is, also under
 * `/ngsi-ld/entities`. Bearer token like the rest of the API: positions and live state are the town's to publish.
 */
export function ngsiLdRoutes(source: NgsiLdSource): AnyRoute[] {
  return ['/ngsi-ld/v1/entities', '/ngsi-ld/entities'].map((url) =>
    defineRoute({
      method: 'GET',
      url,
      summary: 'NGSI-LD entities (Smart Data Models) of the bays, zones and weather stations',
      tag: 'open data',
      auth: 'bearer',
      query: entitiesQuery,
      responses: {
        200: { description: 'An array of entities, normalized or key-values', contentType: 'application/ld+json' },
      },
      handler: ({ query, reply }) => {
        const types = query.type ? new Set<NgsiLdType>(query.type as NgsiLdType[]) : undefined;
        const options = (query.options ?? '').split(',').map((o) => o.trim());
        const simplified =
          options.includes('keyValues') ||
          options.includes('simplified') ||
          query.format === 'simplified' ||
          query.format === 'keyValues';
        const all = source.entities().filter((e) => !types || types.has(e.type));
        const page = all.slice(query.offset, query.offset + query.limit);
        if (query.count === 'true') reply.header('NGSILD-Results-Count', String(all.length));
        return reply.type('application/ld+json').send(JSON.stringify(simplified ? page.map(toKeyValues) : page));
      },
    }),
  );
}
