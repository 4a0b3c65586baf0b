import type { PortierEvent } from '../core/events.js';
import { DeviceStates } from './device-state.js';
import {
  type GeoPoint,
  type NgsiLdEntity,
  offStreetParking,
  parkingSpot,
  pointOf,
  weatherObserved,
} from './ngsi-ld.js';
import type { OperatedGateway } from './operated-gateway.js';

/** The state events an entity is built from; any of them changes its source's entity. */
const WATCHED = new Set(['parking.occupancy', 'parking.zone', 'weather.reading', 'device.health']);

/**
 * The gateway's NGSI-LD entities from its current state: the live state of each source (DeviceStates, seeded from
 * the log and kept current from the bus, the same port the dashboard and DATEX read) and each device's settings
 * (name, latitude, longitude, zone) from the registry. A source without coordinates, or a bay without a zone, is
 * not published: the models require a location, and a ParkingSpot its parking site; `unpublished()` names them.
 */
export class NgsiLdSource {
  private readonly states: DeviceStates;
  /** Rain of each station's latest aggregation window (its raw readings carry the device's counter instead). */
  private readonly rain = new Map<string, { mm: number; at: string }>();
  private readonly listeners = new Set<(sourceIds: string[]) => void>();
  private readonly off: () => void;

  private readonly ownStates: boolean;

  /** `states`: the admin API's, to share its seed; otherwise one of its own (closed with this). */
  constructor(
    private readonly gateway: Pick<OperatedGateway, 'id' | 'bus' | 'store' | 'background'>,
    states?: DeviceStates,
  ) {
    this.ownStates = states === undefined;
    this.states =
      states ?? new DeviceStates((t, rows) => gateway.store.latestEvents(t, rows), gateway.bus, gateway.background);
    // Registered after DeviceStates' own listener, so the state is current when listeners hear of the change.
    this.off = gateway.bus.on('event', (e) => this.heard(e));
  }

  /** Resolves when the state seeded from the log is in. */
  get seeded(): Promise<void> {
    return this.states.seeded;
  }

  /** Call `fn` with the ids of sources whose entity may have changed. Returns the unsubscribe. */
  onChange(fn: (sourceIds: string[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    this.off();
    if (this.ownStates) this.states.close();
    this.listeners.clear();
  }

  /** Every publishable entity (normalized), sorted by id; `only` limits it to these sources. */
  entities(only?: ReadonlySet<string>): NgsiLdEntity[] {
    return this.build(only).entities;
  }

  /** Sources with state that cannot be published, with the reason. */
  unpublished(): Array<{ source: string; reason: string }> {
    return this.build().skipped;
  }

  private heard(e: PortierEvent): void {
    if (!WATCHED.has(e.type)) return;
    if (e.type === 'weather.reading' && typeof e.data.interval_s === 'number' && typeof e.data.rain_mm === 'number') {
      const end = Date.parse(String(e.data.start)) + e.data.interval_s * 1000;
      this.rain.set(e.dev, { mm: e.data.rain_mm, at: Number.isFinite(end) ? new Date(end).toISOString() : e.ts });
    }
    const ids = [e.dev];
    // A bay's change moves its zone's counts too, but the zone reports that in its own parking.zone event.
    for (const fn of this.listeners) fn(ids);
  }

  private build(only?: ReadonlySet<string>) {
    const gw = this.gateway.id;
    const records = new Map(this.gateway.store.devices.list().map((r) => [r.id, r.config]));
    /** bay (device id or bay name) → the zone that lists it */
    const listedIn = new Map<string, string>();
    for (const [id, cfg] of records) {
      if (!Array.isArray(cfg.bays)) continue;
      for (const bay of cfg.bays) if (typeof bay === 'string') listedIn.set(bay, id);
    }
    const nameOf = (id: string) =>
      typeof records.get(id)?.name === 'string' ? String(records.get(id)?.name) : undefined;
    const entities: NgsiLdEntity[] = [];
    const skipped: Array<{ source: string; reason: string }> = [];
    const skip = (source: string, reason: string) => skipped.push({ source, reason });
    for (const [id, s] of this.states.entries()) {
      if (only && !only.has(id)) continue;
      if (id === gw) continue;
      const cfg = records.get(id);
      const own = pointOf(cfg);
      const common = { gatewayId: gw, id, name: nameOf(id), state: s.state, ts: s.ts };
      if (s.types.has('parking.zone')) {
        if (!own) skip(id, 'no latitude/longitude in its settings');
        else entities.push(offStreetParking({ ...common, location: own }));
      } else if (s.types.has('parking.occupancy')) {
        const bayName = typeof s.state.bay === 'string' ? s.state.bay : undefined;
        const zone =
          (typeof cfg?.zone === 'string' ? cfg.zone : undefined) ??
          (typeof s.state.zone === 'string' ? s.state.zone : undefined) ??
          listedIn.get(id) ??
          (bayName !== undefined ? listedIn.get(bayName) : undefined);
        const location: GeoPoint | undefined = own ?? (zone !== undefined ? pointOf(records.get(zone)) : undefined);
        if (zone === undefined) skip(id, 'in no parking zone (a ParkingSpot needs its parking site)');
        else if (!location) skip(id, 'no latitude/longitude in its settings or its zone');
        else entities.push(parkingSpot({ ...common, zone, location }));
      } else if (s.types.has('weather.reading')) {
        if (!own) skip(id, 'no latitude/longitude in its settings');
        else entities.push(weatherObserved({ ...common, location: own, rain: this.rain.get(id) }));
      }
    }
    entities.sort((a, b) => a.id.localeCompare(b.id));
    return { entities, skipped };
  }
}
