// Device cards and event lines: what an operator needs at a glance, from each device's merged live state.

import { ago, clock, h } from './dom.js';

const DOOR_LABEL = { closed: 'Closed', open: 'Open', held_open: 'Held open', forced: 'Forced open' };

/** Which section a device belongs to. */
export function sectionOf(device) {
  if (device.kind === 'lock') return 'doors';
  if (device.kind === 'parking') return 'parking';
  if (device.kind === 'weather') return 'weather';
  return 'other';
}

function fmt(v, digits, unit) {
  return typeof v === 'number' ? `${v.toFixed(digits)}${unit}` : '–';
}

/** The big status of a card and its tone (ok, warn, bad, idle). */
function headline(device) {
  const s = device.state ?? {};
  if (device.kind === 'lock') {
    if (typeof s.state === 'string') {
      const tone = s.state === 'closed' ? 'ok' : s.state === 'open' ? 'warn' : 'bad';
      return { text: DOOR_LABEL[s.state] ?? s.state, tone };
    }
    if (typeof s.locked === 'boolean')
      return { text: s.locked ? 'Locked' : 'Unlocked', tone: s.locked ? 'ok' : 'warn' };
  }
  if (device.kind === 'parking' && typeof s.occupied === 'boolean') {
    return { text: s.occupied ? 'Occupied' : 'Free', tone: s.occupied ? 'warn' : 'ok' };
  }
  if (device.kind === 'weather' && typeof s.temperature_c === 'number') {
    return { text: fmt(s.temperature_c, 1, ' °C'), tone: 'idle' };
  }
  return { text: device.up === false ? 'Down' : device.up ? 'Up' : 'Waiting', tone: 'idle' };
}

/** Label/value lines under the headline. */
function facts(device) {
  const s = device.state ?? {};
  const out = [];
  const add = (label, value) => {
    if (value !== undefined && value !== '–') out.push([label, value]);
  };
  if (device.kind === 'lock') {
    if (typeof s.locked === 'boolean') add('Strike', s.locked ? 'locked' : 'released');
    if (typeof s.occupied === 'boolean') add('Toilet', s.occupied ? 'occupied' : 'free');
  } else if (device.kind === 'parking') {
    if (s.since) add('Since', ago(s.since));
    add('Battery', fmt(s.battery_v, 2, ' V'));
    add('Temp.', fmt(s.temperature_c, 0, ' °C'));
    add('Distance', fmt(s.distance_m, 2, ' m'));
    add('Signal', fmt(s.rssi_dbm, 0, ' dBm'));
  } else if (device.kind === 'weather') {
    add('Humidity', fmt(s.humidity_pct, 0, ' %'));
    add('Pressure', fmt(s.pressure_hpa, 1, ' hPa'));
    if (typeof s.wind_speed_ms === 'number') {
      add(
        'Wind',
        `${fmt(s.wind_speed_ms, 1, ' m/s')}${typeof s.wind_dir_deg === 'number' ? ` from ${s.wind_dir_deg}°` : ''}`,
      );
    }
    add('Gust', fmt(s.wind_gust_ms, 1, ' m/s'));
    add('Rain', fmt(s.rain_mm, 1, ' mm'));
    add('Rain rate', fmt(s.rain_rate_mm_h, 1, ' mm/h'));
    add('UV', fmt(s.uv_index, 1, ''));
    add('Solar', fmt(s.solar_wm2, 0, ' W/m²'));
  }
  if (device.up === false && typeof s.reason === 'string') add('Down', s.reason);
  const rejected = Object.entries(device.rejected ?? {});
  if (rejected.length) add('Rejected', rejected.map(([r, n]) => `${r} ×${n}`).join(', '));
  if (device.state_ts) add('Updated', ago(device.state_ts));
  return out;
}

/** One device card; `actions` gets {test, remove} callbacks. */
export function deviceCard(device, actions) {
  const head = headline(device);
  const health = device.up === true ? 'up' : device.up === false ? 'down' : 'unknown';
  const buttons = [];
  if (device.commands?.includes('unlock')) {
    buttons.push(h('button', { type: 'button', onclick: () => actions.test(device) }, 'Pulse'));
  } else {
    buttons.push(h('button', { type: 'button', onclick: () => actions.test(device) }, 'Readings'));
  }
  if (device.source === 'runtime') {
    buttons.push(h('button', { type: 'button', class: 'quiet', onclick: () => actions.remove(device) }, 'Remove'));
  }
  return h(
    'article',
    { class: `card tone-${head.tone}`, dataset: { device: device.id, health } },
    h(
      'header',
      {},
      h('span', { class: `dot ${health}`, title: `device ${health}` }),
      h('h3', {}, device.name ?? device.id),
      h('span', { class: 'driver' }, device.driver),
    ),
    h('p', { class: 'headline', dataset: { role: 'state' } }, head.text),
    h(
      'dl',
      {},
      facts(device).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
    h('footer', {}, device.name ? h('code', {}, device.id) : null, buttons),
  );
}

/** A parking zone card: free of capacity. */
export function zoneCard(zone) {
  const s = zone.state ?? {};
  const free = typeof s.free === 'number' ? s.free : undefined;
  return h(
    'article',
    { class: `card tone-${free === 0 ? 'bad' : 'ok'}`, dataset: { device: zone.id, health: 'up' } },
    h('header', {}, h('span', { class: 'dot up' }), h('h3', {}, zone.id), h('span', { class: 'driver' }, 'zone')),
    h('p', { class: 'headline', dataset: { role: 'state' } }, free === undefined ? '–' : `${free} free`),
    h(
      'dl',
      {},
      typeof s.capacity === 'number' ? [h('dt', {}, 'Capacity'), h('dd', {}, String(s.capacity))] : null,
      typeof s.occupied === 'number' ? [h('dt', {}, 'Occupied'), h('dd', {}, String(s.occupied))] : null,
      [h('dt', {}, 'Updated'), h('dd', {}, ago(zone.state_ts))],
    ),
  );
}

/** A one-line summary of an event's data. */
export function summary(e) {
  const d = e.data ?? {};
  switch (e.type) {
    case 'access.decision':
      return `${d.granted ? 'granted' : 'denied'}${d.reason && d.reason !== 'ok' ? `: ${d.reason}` : ''} (${d.credential ?? '?'})`;
    case 'door.state':
      return `${DOOR_LABEL[d.state] ?? d.state}${d.locked === false ? ', unlocked' : ''}`;
    case 'lock.state':
      return d.locked ? 'locked' : 'unlocked';
    case 'parking.occupancy':
      return `${d.bay ?? ''} ${d.occupied ? 'occupied' : 'free'}`.trim();
    case 'parking.zone':
      return `${d.zone ?? ''} ${d.free}/${d.capacity} free`.trim();
    case 'weather.reading':
      return [fmt(d.temperature_c, 1, ' °C'), fmt(d.humidity_pct, 0, ' %'), fmt(d.wind_speed_ms, 1, ' m/s')]
        .filter((x) => x !== '–')
        .join(', ');
    case 'device.health':
      return d.up ? 'up' : `down${d.reason ? `: ${d.reason}` : ''}`;
    case 'provisioning.change':
      return `${d.action} ${d.device} (${d.driver}) by ${d.actor}`;
    case 'alarm':
      return String(d.alarm ?? 'alarm');
    default:
      return JSON.stringify(d).slice(0, 120);
  }
}

export function eventRow(e) {
  const tone = e.type === 'alarm' || (e.type === 'access.decision' && !e.data?.granted) ? 'bad' : '';
  return h(
    'li',
    { class: tone, dataset: { seq: e.seq, type: e.type } },
    h('time', { datetime: e.ts }, clock(e.ts)),
    h('span', { class: 'dev' }, e.dev),
    h('span', { class: 'type' }, e.type),
    h('span', { class: 'sum' }, summary(e)),
  );
}
