import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { passLink } from '../../devices/readers/http-pass-page.js';
import { PassOfficeStub } from '../../firmware-stubs/pass-office.js';
import type { Gateway } from '../app/gateway.js';
import { reasonOf } from '../core/errors.js';
import type { PortierEvent } from '../core/events.js';

/** ms between outbox summaries */
const OUTBOX_EVERY_MS = 15_000;

/** One readable sentence per event, so a newcomer sees what the gateway is doing. */
export function describeEvent(e: PortierEvent): string {
  const door = describeDoorEvent(e);
  if (door) return door;
  const d = e.data;
  switch (e.type) {
    case 'parking.occupancy':
      return `${e.dev}: bay is now ${d.occupied ? 'OCCUPIED' : 'FREE'}`;
    case 'weather.reading':
      return `${e.dev}: ${fmt(d.temperature_c, '°C')} ${fmt(d.humidity_pct, '%')} ${fmt(d.pressure_hpa, 'hPa')} wind ${fmt(d.wind_speed_ms, 'm/s')} from ${fmt(d.wind_dir_deg, '°')}`;
    case 'door.state':
      return `${e.dev}: door ${d.state}${d.locked ? ' (locked)' : ''}`;
    case 'lock.state':
      return `${e.dev}: ${d.locked ? 'locked' : 'UNLOCKED'}`;
    case 'device.health':
      return `${e.dev}: device ${d.up ? 'up' : `DOWN (${String(d.reason ?? 'no reason')})`}`;
    case 'access.decision':
      return `${e.dev}: access ${d.granted ? 'GRANTED' : `denied (${String(d.reason)})`}`;
    default:
      return `${e.dev}: ${e.type}`;
  }
}

function fmt(v: unknown, unit: string): string {
  return typeof v === 'number' ? `${Math.round(v * 10) / 10}${unit}` : `-${unit}`;
}

/** Log every committed event and, now and then, how many events wait in the outbox. Returns a stop function. */
export function narrate(gateway: Gateway, log: Logger): () => void {
  const stopPass = announceDemoPass(gateway, log);
  const off = gateway.bus.on('event', (e) => {
    log.info({ event: { seq: e.seq, type: e.type, dev: e.dev, data: e.data } }, describeEvent(e));
  });
  // Made at the first tick: the narrator starts before the gateway has opened its store.
  let backlog: ReturnType<Gateway['store']['backlog']> | undefined;
  const timer = setInterval(() => {
    backlog ??= gateway.store.backlog();
    const n = backlog.read(Date.now()).total.count;
    log.info({ outbox: n }, `${n} events wait in the outbox for the cloud (the demo has no cloud broker configured)`);
  }, OUTBOX_EVERY_MS);
  timer.unref();
  return () => {
    stopPass();
    off();
    clearInterval(timer);
  };
}

/** Sentences for the door side: toilets' occupancy and modes, openings without a pass, refusals, alarms. */
function describeDoorEvent(e: PortierEvent): string | undefined {
  const d = e.data;
  if (e.type === 'door.state' && typeof d.occupied === 'boolean') {
    return `${e.dev}: door ${String(d.state)}, ${d.occupied ? 'OCCUPIED' : 'free'}`;
  }
  if (e.type === 'lock.state' && typeof d.mode === 'string' && d.mode !== 'normal') {
    return `${e.dev}: ${d.mode === 'cleaning' ? 'CLEANING (held open, passes refused)' : 'EMERGENCY RELEASE (held open)'}`;
  }
  if (e.type === 'access.decision' && (d.credential === 'rex' || d.credential === 'eurokey')) {
    return `${e.dev}: opened by ${d.credential === 'rex' ? 'the exit button' : 'a Euro-key'} (no pass needed)`;
  }
  if (e.type === 'access.decision' && d.granted === true) {
    return `${e.dev}: access GRANTED (${String(d.credential)} at ${String(d.reader ?? e.dev)})`;
  }
  if (e.type === 'alarm') return `${e.dev}: ALARM ${String(d.alarm)}`;
  return undefined;
}

/**
 * The demo's pass office: once the gateway runs, make an issuer key, import its public half into the keyring, issue
 * a pass for the first public toilet, and print it with the ways to use it. Printing a pass is for this demo only
 * (a simulated door and a throwaway key); a real gateway never logs one. The pass is also left in the demo folder,
 * where the demo's visitor picks it up and scans it (src/demo/stubs.ts).
 */
function announceDemoPass(gateway: Gateway, log: Logger): () => void {
  let done = false;
  const off = gateway.bus.on('event', () => {
    if (done || !gateway.access) return;
    done = true;
    off();
    issueDemoPass(gateway, log).catch((err: unknown) => log.warn({ err: reasonOf(err) }, 'demo: no demo pass'));
  });
  return off;
}

async function issueDemoPass(gateway: Gateway, log: Logger): Promise<void> {
  const devices = gateway.store.devices.list();
  const toilet = devices.find((d) => d.driver === 'public-toilet');
  if (!toilet) return;
  const office = new PassOfficeStub();
  gateway.access.service.keys.importJwks(office.publicJwks());
  const pass = await office.issue({ aud: toilet.id, uses: 20, sub: 'demo-visitor' });
  const demoDir = dirname(gateway.config.gateway.state_dir);
  const file = join(demoDir, 'demo-pass.txt');
  writeFileSync(file, `${pass}\n`);
  const qr = devices.find((d) => d.driver === 'serial-qr-reader' && d.config.lock === toilet.id);
  const web = devices.find(
    (d) =>
      d.driver === 'http-pass-reader' &&
      Array.isArray(d.config.locks) &&
      (d.config.locks as unknown[]).some((l) => l === toilet.id || (l as { id?: unknown } | null)?.id === toilet.id),
  );
  const lines = [
    `demo: a pass for ${toilet.id} (20 uses, 24 h; demo only, a real gateway never prints a pass):`,
    `  ${pass}`,
    `  it is also in ${file}`,
  ];
  if (qr) lines.push(`  scan it:  printf '%s\\r\\n' "$(cat ${file})" > ${String(qr.config.path)}.device`);
  if (web) {
    const base = `http://${String(web.config.host)}:${String(web.config.port)}`;
    lines.push(`  or open on this machine:  ${passLink(base, toilet.id, pass)}`);
  }
  lines.push('  the demo visitor scans it in a few seconds; watch the toilet open, fill and free up');
  log.info(lines.join('\n'));
}
