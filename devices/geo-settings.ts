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

/**
 * A place's name for open data (the DATEX II parking table's multilingual `parkingName`): one string, in the
 * publication's language, or one per two-letter language code ({de, en}).
 */
export const placeName = z.union([
  z.string().min(1).max(200),
  z
    .record(z.string().regex(/^[a-z]{2}$/, 'expected a two-letter language code'), z.string().min(1).max(200))
    .refine((r) => Object.keys(r).length > 0, 'give at least one language'),
]);
