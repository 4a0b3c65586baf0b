import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import type { PortierEvent } from '../../src/core/events.js';
import { geoSettings, placeName } from '../geo-settings.js';
import { type BayState, ZoneCounter, type ZoneSnapshot } from './occupancy/zone-state.js';

/** ms between saves of the bays' states (and at stop); after a crash the log since the last save is replayed */
const SAVE_EVERY_MS = 60_000;
/** Events a zone with no saved state looks back through at start (its first start, or after an upgrade). */
const FIRST_START_LOOKBACK = 500_000;
const WATCHED = ['parking.occupancy', 'device.health'] as const;

/** What a zone keeps across restarts. */
interface ZoneMemory {
  bays: Array<[string, BayState]>;
  /** device id → the key the bay is counted under */
  keys: Array<[string, string]>;
}

export const parkingZoneConfig = z
  .object({
    /** Member bays, by device id or bay name; bays may instead name this zone in their own `zone` setting. */
    bays: z.array(z.string().min(1).max(100)).max(100_000).default([]),
    /** Spaces in the zone, 1-100000; default: the number of listed bays. */
    capacity: z.number().int().min(1).max(100_000).optional(),
    /** s, 1-86400: also report the counts this often when they have not changed (a heartbeat for signs and feeds) */
    refresh_s: z.number().int().min(1).max(86_400).optional(),
    /**
     * Name in the DATEX II parking table: a string, or per language ({de, en}); default the device id. (Not `name`:
     * that is the device's own label in the config file.)
     */
    datex_name: placeName.optional(),
    /** WGS 84 degrees of the zone (its entrance or centre), for NGSI-LD and the DATEX II parking table. */
    ...geoSettings,
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

/** Where and what the zone is called for open data (its settings). */
export interface PlaceInfo {
  name?: string | Record<string, string>;
  latitude?: number;
  longitude?: number;
}

/** A member bay asked for by `status {bays}`: its state and when it last changed. */
export interface BayStatus {
  /** The bay as the zone counts it (device id, or the bay name the zone lists). */
  id: string;
  state: BayState;
  /** ISO time the bay's state last changed (or the zone started). */
  updated: string;
}

/** What the zone's `status` command returns: the current counts and when they last changed. */
export interface ZoneStatus extends ZoneSnapshot, PlaceInfo {
  /** ISO time the counts last changed (or the zone started). */
  updated: string;
  /** The member bays among those `status {bays}` asked for, in that order. */
  bays: BayStatus[];
}

function placeInfo(p: {
  name?: PlaceInfo['name'] | undefined;
  latitude?: number | undefined;
  longitude?: number | undefined;
}): PlaceInfo {
  const info: PlaceInfo = {};
  if (p.name !== undefined) info.name = p.name;
  if (p.latitude !== undefined && p.longitude !== undefined) {
    info.latitude = p.latitude;
    info.longitude = p.longitude;
  }
  return info;
}

/**
 * A parking zone: no wire of its own, it counts the bays that belong to it from their committed
 * `parking.occupancy` events (and their `device.health`: a stale sensor's bay becomes unknown), and emits
 * `parking.zone` {zone, capacity, occupied, free, unknown} when the counts change, at most once per event-loop turn
 * (a burst of 500 bay changes gives one zone event, with the final counts). `status` returns the counts for the
 * DATEX II publication. The bays' states outlive a restart: saved every minute and at stop, and brought up to date
 * at start from the log, so a sign or the city's feed does not show every quiet bay as unknown after a reboot
 * (a LoRaWAN bay sensor may not speak again for hours).
 */
export const parkingZone = defineDriver({
  id: 'parking-zone',
  kind: 'parking',
  transport: 'none',
  description: 'Parking zone: counts its bays (listed, or naming the zone) and emits parking.zone with free spaces',
  config: parkingZoneConfig,
  events: ['parking.zone'],
  commands: {
    /** `bays`: also the state of these member bays (device ids or listed bay names), e.g. for DATEX II. */
    status: z.object({ bays: z.array(z.string().min(1).max(100)).max(100_000).optional() }).strict(),
  },
  create(ctx) {
    const listed = [...new Set(ctx.config.bays)];
    const counter = new ZoneCounter(ctx.id, ctx.config.capacity ?? listed.length, listed);
    const listedSet = new Set(listed);
    /** device id → the key the bay is counted under (its device id, or the bay name the zone lists) */
    const keyOf = new Map<string, string>();
    const started = new Date(ctx.clock.now().ms).toISOString();
    let updated = started;
    /** bay key → ISO time its state last changed (since start; before that, the zone's start time) */
    const bayUpdated = new Map<string, string>();
    let last: ZoneSnapshot | undefined;
    let flushScheduled = false;
    let unsubscribe: (() => void) | undefined;
    let refresh: NodeJS.Timeout | undefined;
    let saver: NodeJS.Timeout | undefined;
    let stopped = false;
    /** seq of the newest bay event counted, and whether anything changed since the last save */
    let seenSeq = 0;
    let unsaved = false;

    const save = (): void => {
      if (!unsaved) return;
      unsaved = false;
      const memory: ZoneMemory = { bays: counter.entries(), keys: [...keyOf] };
      ctx.memory.save(memory, seenSeq);
    };

    /** The saved states, then every bay event logged since: the counts as they were before the restart. */
    const restore = (): void => {
      const saved = ctx.memory.load();
      const value = saved?.value as Partial<ZoneMemory> | undefined;
      if (saved && Array.isArray(value?.bays) && Array.isArray(value?.keys)) {
        for (const [dev, key] of value.keys) keyOf.set(dev, key);
        for (const [bay, state] of value.bays) counter.restore(bay, state);
        seenSeq = saved.seq;
      } else {
        seenSeq = Math.max(0, ctx.lastSeq() - FIRST_START_LOOKBACK);
      }
      for (const e of ctx.history(seenSeq, WATCHED)) onEvent(e);
    };

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
      let moved = false;
      if (e.type === 'parking.occupancy') {
        if (typeof e.data.occupied !== 'boolean') return;
        const key = memberKey(e);
        moved = key !== undefined && counter.set(key, e.data.occupied);
        if (moved) bayUpdated.set(key!, e.ts);
      } else if (e.type === 'device.health' && e.data.up === false) {
        const key = keyOf.get(e.dev) ?? (listedSet.has(e.dev) ? e.dev : undefined);
        moved = key !== undefined && counter.lose(key);
        if (moved) bayUpdated.set(key!, e.ts);
      } else return;
      if (e.seq > seenSeq) seenSeq = e.seq;
      if (moved) {
        unsaved = true;
        changed();
      }
    };

    return {
      start() {
        stopped = false;
        restore();
        unsubscribe = ctx.bus.on('event', onEvent);
        ctx.health(true);
        changed();
        if (ctx.config.refresh_s) refresh = setInterval(() => flush(true), ctx.config.refresh_s * 1000);
        saver = setInterval(save, SAVE_EVERY_MS);
        saver.unref();
      },
      stop() {
        stopped = true;
        clearInterval(refresh);
        clearInterval(saver);
        unsubscribe?.();
        save();
      },
      command(name, args) {
        if (name !== 'status') return undefined;
        const asked = (args as { bays?: string[] } | undefined)?.bays ?? [];
        const bays = asked.flatMap((id): BayStatus[] => {
          const state = counter.state(id);
          return state === undefined ? [] : [{ id, state, updated: bayUpdated.get(id) ?? started }];
        });
        const status: ZoneStatus = {
          ...counter.snapshot(),
          updated,
          ...placeInfo({ ...ctx.config, name: ctx.config.datex_name }),
          bays,
        };
        return status;
      },
    };
  },
});
