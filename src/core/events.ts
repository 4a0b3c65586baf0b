/** Event types, their lanes, and the stored event envelope (DESIGN.md, Events). */

/**
 * Event types whose data is a device's current state: the local broker keeps them retained on `<device>/state`,
 * the admin API merges them into each device's live state, and the dashboard (served as /state-types.js) too.
 */
export const STATEFUL_EVENT_TYPES = [
  'door.state',
  'lock.state',
  'parking.occupancy',
  'parking.zone',
  'weather.reading',
  'device.health',
] as const;

export const EVENT_TYPES = [
  'access.decision',
  ...STATEFUL_EVENT_TYPES,
  'gateway.health',
  'provisioning.change',
  'alarm',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type TimeQuality = 'synced' | 'rtc' | 'floor' | 'unknown';

/** Outbox lanes: critical is never dropped, state is coalesced, telemetry is downsampled then shed. */
export type Lane = 'critical' | 'state' | 'telemetry';

const DEFAULT_LANE: Record<EventType, Lane> = {
  'access.decision': 'critical',
  alarm: 'critical',
  'provisioning.change': 'critical',
  'door.state': 'state',
  'lock.state': 'state',
  'parking.occupancy': 'state',
  'parking.zone': 'state',
  'device.health': 'state',
  'gateway.health': 'state',
  'weather.reading': 'telemetry',
};

export function laneOf(type: EventType): Lane {
  return DEFAULT_LANE[type];
}

/** What a driver or service hands to the event log. */
export interface EventInput {
  dev: string;
  type: EventType;
  data: Record<string, unknown>;
}

/** The stored, numbered event: one JSON object as DESIGN.md writes it. */
export interface PortierEvent {
  id: string;
  seq: number;
  /** The log incarnation `seq` counts in: `(gw, epoch, seq)` never names two events (docs/sync.md, Epochs). */
  epoch: string;
  gw: string;
  dev: string;
  type: EventType;
  ts: string;
  tq: TimeQuality;
  data: Record<string, unknown>;
}
