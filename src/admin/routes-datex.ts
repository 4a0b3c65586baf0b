import { ApiError } from './api-errors.js';
import { datexParkingStatus } from './datex.js';
import type { OperatedGateway } from './operated-gateway.js';
import { type AnyRoute, defineRoute } from './route.js';

/**
 * Open data for the city's platform: the zones' free spaces as a DATEX II v2.3 ParkingStatusPublication (the form
 * German cities publish on Mobilithek), read directly from the gateway. No token: it is a public publication.
 */
export function datexRoutes(gateway: Pick<OperatedGateway, 'id' | 'hosts'>): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/datex/parking-status',
      summary: 'DATEX II v2.3 ParkingStatusPublication of the parking zones',
      tag: 'open data',
      auth: 'none',
      responses: {
        200: { description: 'The publication (XML)', contentType: 'application/xml' },
        404: { description: 'This gateway has no parking zone' },
      },
      handler: async ({ reply }) => {
        const xml = await datexParkingStatus(gateway);
        if (xml === undefined) throw new ApiError(404, 'no_zones', 'this gateway has no parking zone');
        return reply.type('application/xml; charset=utf-8').send(xml);
      },
    }),
  ];
}
