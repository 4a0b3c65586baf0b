import { ApiError } from './api-errors.js';
import { datexParkingStatus, datexParkingTable } from './datex.js';
import type { DatexGateway } from './datex-source.js';
import { type AnyRoute, defineRoute } from './route.js';

type Gateway = DatexGateway;

function xmlRoute(url: string, summary: string, build: () => Promise<string | undefined>): AnyRoute {
  return defineRoute({
    method: 'GET',
    url,
    summary,
    tag: 'open data',
    auth: 'none',
    responses: {
      200: { description: 'The publication (XML)', contentType: 'application/xml' },
      404: { description: 'This gateway has no parking zone' },
    },
    handler: async ({ reply }) => {
      const xml = await build();
      if (xml === undefined) throw new ApiError(404, 'no_zones', 'this gateway has no parking zone');
      return reply.type('application/xml; charset=utf-8').send(xml);
    },
  });
}

/**
 * Open data for the city's platform: the zones' free spaces (and the bays a town publishes singly) as DATEX II v2.3
 * GenericPublications in the shape German cities publish on Mobilithek, read directly from the gateway: the dynamic
 * ParkingStatusPublication and the static ParkingTablePublication with the same record ids. No token: public.
 */
export function datexRoutes(gateway: Gateway): AnyRoute[] {
  return [
    xmlRoute('/datex/parking-status', 'DATEX II v2.3 ParkingStatusPublication of the parking zones', () =>
      datexParkingStatus(gateway),
    ),
    xmlRoute('/datex/parking-table', 'DATEX II v2.3 ParkingTablePublication of the parking zones', () =>
      datexParkingTable(gateway),
    ),
  ];
}
