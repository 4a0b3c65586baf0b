import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import type { PortierEvent } from '../../src/core/events.js';
import { ZoneCounter, type ZoneSnapshot } from './occupancy/zone-state.js';

export const parkingZoneConfig = z
  .object({
    /** Member bays, by device id or bay name; bays may instead name this zone in their own `zone` setting. */
    bays: z.array(z.string().min(1).max(100)).max(100_000).default([]),
    /** Spaces in the zone, 1-100000; default: the number of listed bays. */
    capacity: z.number().int().min(1).max(100_000).optional(),
    /** s, 1-86400: also report the counts this often when they have not changed (a heartbeat for signs and feeds) */
    refresh_s: z.number().int().min(1).max(86_400).optional(),
  })
  .strict()
  .refine((c) => c.capacity !== undefined || c.bays.length > 0, {
    message: 'a zone needs a capacity or a list of bays',
    path: ['capacity'],
  })
  .refine((c) => c.capacity === undefined || c.capacity >= new Set(c.bays).size, {
    message: 'capacity is smaller than the number of listed bays',
    path: ['capacity'],
  });

/** What the zone's `status` command returns: the current counts and when they last changed. */
export interface ZoneStatus extends ZoneSnapshot {
  /** ISO time the counts last changed (or the zone started). */
  updated: string;
}

/**
 * A parking zone: no wire of its own, it counts the bays that belong to it from their committed
 * `parking.occupancy` events (and their `device.health`: a stale sensor's bay becomes unknown), and emits
 * `parking.zone` {zone, capacity, occupied, free, unknown} when the counts change, at most once per event-loop turn
 * (a burst of 500 bay changes gives one zone event, with the final counts). `status` returns the counts for the
 * DATEX II publication.
 */
export const parkingZone = defineDriver({
  id: 'parking-zone',
  kind: 'parking',
  transport: 'mqtt',
  description: 'Parking zone: counts its bays (listed, or naming the zone) and emits parking.zone with free spaces',
  config: parkingZoneConfig,
  events: ['parking.zone'],
  commands: { status: z.object({}).strict() },
  create(ctx) {
    const listed = [...new Set(ctx.config.bays)];
    const counter = new ZoneCounter(ctx.id, ctx.config.capacity ?? listed.length, listed);
    const listedSet = new Set(listed);
    /** device id → the key the bay is counted under (its device id, or the bay name the zone lists) */
    const keyOf = new Map<string, string>();
    let updated = new Date(ctx.clock.now().ms).toISOString();
    let last: ZoneSnapshot | undefined;
    let flushScheduled = false;
    let unsubscribe: (() => void) | undefined;
    let refresh: NodeJS.Timeout | undefined;
    let stopped = false;

    const flush = (force = false): void => {
      flushScheduled = false;
      if (stopped) return;
      const snap = counter.snapshot();
      const same = last && last.occupied === snap.occupied && last.free === snap.free && last.unknown === snap.unknown;
      if (same && !force) return;
      last = snap;
      if (!same) updated = new Date(ctx.clock.now().ms).toISOString();
      const data: Record<string, unknown> = {
        zone: snap.zone,
        capacity: snap.capacity,
        occupied: snap.occupied,
        free: snap.free,
      };
      if (snap.unknown > 0) data.unknown = snap.unknown;
      ctx.emit('parking.zone', data);
    };

    const changed = (): void => {
      if (flushScheduled) return;
      flushScheduled = true;
      setImmediate(() => flush());
    };

    const memberKey = (e: PortierEvent): string | undefined => {
      const known = keyOf.get(e.dev);
      if (known !== undefined) return known;
      let key: string | undefined;
      if (listedSet.has(e.dev)) key = e.dev;
      else if (typeof e.data.bay === 'string' && listedSet.has(e.data.bay)) key = e.data.bay;
      else if (e.data.zone === ctx.id) key = e.dev;
      if (key !== undefined) keyOf.set(e.dev, key);
      return key;
    };

    const onEvent = (e: PortierEvent): void => {
      if (e.type === 'parking.occupancy') {
        if (typeof e.data.occupied !== 'boolean') return;
        const key = memberKey(e);
        if (key !== undefined && counter.set(key, e.data.occupied)) changed();
      } else if (e.type === 'device.health' && e.data.up === false) {
        const key = keyOf.get(e.dev) ?? (listedSet.has(e.dev) ? e.dev : undefined);
        if (key !== undefined && counter.lose(key)) changed();
      }
    };

    return {
      start() {
        stopped = false;
        unsubscribe = ctx.bus.on('event', onEvent);
        ctx.health(true);
        changed();
        if (ctx.config.refresh_s) refresh = setInterval(() => flush(true), ctx.config.refresh_s * 1000);
      },
      stop() {
        stopped = true;
        clearInterval(refresh);
        unsubscribe?.();
      },
      command(name) {
        if (name !== 'status') return undefined;
        const status: ZoneStatus = { ...counter.snapshot(), updated };
        return status;
      },
    };
  },
});
