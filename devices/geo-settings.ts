import { z } from 'zod';

/**
 * Where a device or zone is (WGS84 degrees), for open data (NGSI-LD's `location`, DATEX II): optional, spread into
 * a driver's strict schema. A source with only one of the two has no location.
 */
export const geoSettings = {
  /** degrees north, -90-90 */
  latitude: z.number().min(-90).max(90).optional(),
  /** degrees east, -180-180 */
  longitude: z.number().min(-180).max(180).optional(),
};
