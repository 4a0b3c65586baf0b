import type { Logger } from 'pino';
import type { PortierEvent } from '../core/events.js';
import type { Gateway } from '../core/gateway.js';

/** ms between outbox summaries */
const OUTBOX_EVERY_MS = 15_000;

/** One readable sentence per event, so a newcomer sees what the gateway is doing. */
export function describeEvent(e: PortierEvent): string {
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
  const off = gateway.bus.on('event', (e) => {
    log.info({ event: { seq: e.seq, type: e.type, dev: e.dev, data: e.data } }, describeEvent(e));
  });
  const timer = setInterval(() => {
    const { n } = gateway.store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number };
    log.info({ outbox: n }, `${n} events wait in the outbox for the cloud (the demo has no cloud broker configured)`);
  }, OUTBOX_EVERY_MS);
  timer.unref();
  return () => {
    off();
    clearInterval(timer);
  };
}
