// The Portier dashboard: sign in with the admin token, then devices, health, outbox and the event log, kept live
// from the gateway's event stream. Plain modules, no build step, nothing fetched from outside the gateway.

import { ApiError, api, followEvents, getToken, setToken } from './api.js';
import { $, age, bytes, fill, h } from './dom.js';
import { setupAddDevice, setupPassCheck } from './forms.js';
import { deviceCard, eventRow, sectionOf, zoneCard } from './render.js';
import { STATE_TYPES } from './state-types.js';

const MAX_EVENTS = 200;

const view = {
  devices: new Map(),
  zones: new Map(),
  stopStream: undefined,
  timers: [],
  drivers: [],
  refreshTimer: undefined,
};

function showLogin(message) {
  view.stopStream?.();
  $('#live').textContent = 'offline';
  $('#live').className = 'live';
  $('#status').hidden = true;
  for (const t of view.timers) clearInterval(t);
  view.timers = [];
  $('#app').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  const msg = $('#login-form .form-msg');
  msg.className = `form-msg${message ? ' bad' : ''}`;
  msg.textContent = message ?? '';
  $('#token').focus();
}

/** Any 401 means the token is wrong or rotated: back to the sign-in form. */
function guard(err) {
  if (err instanceof ApiError && err.status === 401) {
    setToken(null);
    showLogin('The token was refused. Paste the current one.');
    return true;
  }
  console.error(err);
  return false;
}

function renderDevices() {
  const sections = { doors: [], parking: [], weather: [], other: [] };
  const actions = { test: testDevice, remove: removeDevice };
  for (const d of view.devices.values()) sections[sectionOf(d)].push(deviceCard(d, actions));
  for (const z of view.zones.values()) sections.parking.push(zoneCard(z));
  for (const [name, cards] of Object.entries(sections)) {
    const el = $(`#sec-${name}`);
    if (name === 'other') $('#sec-other-panel').hidden = cards.length === 0;
    if (cards.length) fill(el, cards);
    else if (name !== 'other') fill(el, h('p', { class: 'empty' }, 'None yet.'));
  }
  setupPassCheck(
    $('#check-form'),
    [...view.devices.values()].filter((d) => d.kind === 'lock'),
  );
}

function replaceCard(id) {
  const d = view.devices.get(id);
  const z = view.zones.get(id);
  const old = document.querySelector(`[data-device="${CSS.escape(id)}"]`);
  if (!old || (!d && !z)) return renderDevices();
  old.replaceWith(d ? deviceCard(d, { test: testDevice, remove: removeDevice }) : zoneCard(z));
}

async function loadDevices() {
  const res = await api('GET', '/api/devices');
  view.devices = new Map(res.devices.map((d) => [d.id, d]));
  view.zones = new Map(res.zones.map((z) => [z.id, z]));
  renderDevices();
}

async function loadHealth() {
  const r = await api('GET', '/api/health');
  $('#gw-id').textContent = r.gateway;
  const pill = $('#status');
  pill.hidden = false;
  pill.textContent = r.status;
  pill.className = `pill ${r.status === 'ok' ? 'ok' : r.status === 'degraded' ? 'warn' : 'bad'}`;
  const stat = (label, value, tone) =>
    h('div', { class: `stat ${tone ?? ''}` }, h('span', { class: 'v' }, value), h('span', { class: 'l' }, label));
  fill(
    $('#health'),
    stat('devices up', `${r.devices.up}/${r.devices.total}`, r.devices.down ? 'warn' : 'ok'),
    r.devices.down ? stat('down', r.devices.down_ids.join(', '), 'bad') : null,
    stat('waiting for cloud', String(r.outbox.count), r.outbox.count > 1000 ? 'warn' : ''),
    stat('oldest unsent', age(r.outbox.oldest_age_s)),
    stat('time', r.time.quality, r.time.quality === 'unknown' ? 'bad' : r.time.quality === 'synced' ? 'ok' : 'warn'),
    stat('local broker', r.local_mqtt, r.local_mqtt === 'up' || r.local_mqtt === 'off' ? '' : 'warn'),
    stat('store', r.store.ok ? 'ok' : 'failing', r.store.ok ? 'ok' : 'bad'),
    stat('version', r.version),
  );
}

async function loadOutbox() {
  const r = await api('GET', '/api/outbox');
  const row = (name, l) =>
    h(
      'tr',
      {},
      h('th', {}, name),
      h('td', {}, String(l.count)),
      h('td', {}, age(l.oldest_age_s)),
      h('td', {}, bytes(l.bytes)),
    );
  fill(
    $('#outbox tbody'),
    Object.entries(r.lanes).map(([name, l]) => row(name, l)),
    row('total', r.total),
  );
}

async function loadEvents() {
  const r = await api('GET', '/api/events?limit=50');
  fill($('#events'), r.events.reverse().map(eventRow));
  applyFilter();
}

function applyFilter() {
  const q = $('#event-filter').value.trim().toLowerCase();
  for (const li of $('#events').children) {
    li.hidden = q !== '' && !li.textContent.toLowerCase().includes(q);
  }
}

/** One committed event from the stream: into the log, and into its device's live state. */
function onEvent(e) {
  refreshSoon();
  const list = $('#events');
  const row = eventRow(e);
  const q = $('#event-filter').value.trim().toLowerCase();
  row.hidden = q !== '' && !row.textContent.toLowerCase().includes(q);
  list.prepend(row);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();

  if (e.type === 'provisioning.change') {
    loadDevices().catch(guard);
    return;
  }
  if (!STATE_TYPES.has(e.type)) return;
  const target = view.devices.get(e.dev) ?? view.zones.get(e.dev);
  if (!target) {
    if (e.type === 'parking.zone') {
      view.zones.set(e.dev, { id: e.dev, state: { ...e.data }, state_ts: e.ts });
      renderDevices();
    }
    return;
  }
  target.state = { ...target.state, ...e.data };
  target.state_ts = e.ts;
  if (e.type === 'device.health') {
    target.state.available = e.data.up;
    target.up = e.data.up;
  }
  replaceCard(e.dev);
}

/** Health and outbox follow the events, at most once a second however busy the stream is. */
function refreshSoon() {
  if (view.refreshTimer) return;
  view.refreshTimer = setTimeout(() => {
    view.refreshTimer = undefined;
    Promise.all([loadHealth(), loadOutbox()]).catch(guard);
  }, 1000);
}

async function testDevice(d) {
  try {
    const r = await api('POST', `/api/devices/${encodeURIComponent(d.id)}/test`);
    if (r.action === 'pulsed') flash(`${d.id}: pulsed the strike`);
    else flash(`${d.id}: ${r.up === false ? 'down' : 'up'}, ${r.events.length} recent events`);
  } catch (err) {
    if (!guard(err)) flash(`${d.id}: ${err.message}`, true);
  }
}

async function removeDevice(d) {
  if (!confirm(`Remove ${d.id}? It stops at once; its events stay in the log.`)) return;
  try {
    await api('DELETE', `/api/devices/${encodeURIComponent(d.id)}`);
    view.devices.delete(d.id);
    renderDevices();
  } catch (err) {
    if (!guard(err)) flash(`${d.id}: ${err.message}`, true);
  }
}

function flash(text, bad = false) {
  const el = h('div', { class: `toast${bad ? ' bad' : ''}`, role: 'status' }, text);
  document.body.append(el);
  setTimeout(() => el.remove(), 4000);
}

async function start() {
  $('#login').hidden = true;
  try {
    await loadHealth();
  } catch (err) {
    if (!guard(err)) showLogin(err.message);
    return;
  }
  $('#app').hidden = false;
  $('#logout').hidden = false;
  try {
    const { drivers } = await api('GET', '/api/drivers');
    view.drivers = drivers;
    await Promise.all([loadDevices(), loadOutbox(), loadEvents()]);
    if (!$('#add-form').dataset.wired) {
      $('#add-form').dataset.wired = 'yes';
      setupAddDevice($('#add-form'), drivers, (device) => {
        view.devices.set(device.id, device);
        renderDevices();
      });
    }
  } catch (err) {
    guard(err);
    return;
  }
  const live = $('#live');
  view.stopStream = followEvents(onEvent, (state) => {
    live.textContent = state === 'live' ? 'live' : state;
    live.className = `live is-${state}`;
    if (state === 'denied') guard(new ApiError(401, 'unauthorized', 'refused'));
  });
  view.timers.push(setInterval(() => loadHealth().catch(guard), 10_000));
  view.timers.push(setInterval(() => loadOutbox().catch(guard), 10_000));
  // "12 s ago" ages: re-render cards now and then without asking the gateway.
  view.timers.push(setInterval(renderDevices, 30_000));
}

$('#login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken($('#token').value.trim());
  $('#token').value = '';
  void start();
});
$('#logout').addEventListener('click', () => {
  setToken(null);
  showLogin();
});
$('#event-filter').addEventListener('input', applyFilter);

if (getToken()) void start();
else showLogin();
