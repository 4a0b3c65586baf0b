/**
 * A gateway reduced to its event log and its cloud uplink, as a child process for the kill -9 test:
 *   node gateway-child.js STATE_DIR CLOUD_URL TOTAL
 * It opens the store in STATE_DIR, starts the uplink to CLOUD_URL, and records events (a mix of lanes) until the
 * log holds TOTAL of them, continuing from wherever a previous, killed, run left off. It prints `produced` once the
 * last one is committed, and keeps draining until SIGTERM.
 */
import { silentLogger } from '../../../src/core/logger.js';
import { openStore } from '../../../src/store/store.js';
import { CloudSync } from '../../../src/sync/service.js';
import { testCloudConfig } from './harness.js';

const [stateDir, url, totalArg] = process.argv.slice(2);
if (!stateDir || !url || !totalArg) {
  process.stderr.write('usage: gateway-child STATE_DIR CLOUD_URL TOTAL\n');
  process.exit(2);
}
const total = Number(totalArg);
const gatewayId = 'gw-kill';
const store = openStore({ stateDir, gatewayId, log: silentLogger(), clock: { trustSystemClock: true } });
const sync = new CloudSync({ config: testCloudConfig(url), gatewayId, store, log: silentLogger() });
sync.start();

/** Events per 10 ms tick: 2,500 per second. */
const PER_TICK = 25;
const lastSeq = () => store.events.tail(1)[0]?.seq ?? 0;
let produced = lastSeq();
const timer = setInterval(() => {
  const n = Math.min(PER_TICK, total - produced);
  for (let i = 0; i < n; i++) {
    const k = produced + i + 1;
    if (k % 50 === 0) {
      store.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { granted: true, n: k } });
    } else if (k % 5 === 0) {
      store.events.record({ dev: `bay-${k % 7}`, type: 'parking.occupancy', data: { occupied: k % 2 === 0, n: k } });
    } else {
      store.events.record({ dev: `weather-${k % 3}`, type: 'weather.reading', data: { temperature_c: 10, n: k } });
    }
  }
  produced += n;
  if (produced >= total) {
    clearInterval(timer);
    store.events.flush();
    process.stdout.write(`produced ${lastSeq()}\n`);
  }
}, 10);

process.on('SIGTERM', () => {
  clearInterval(timer);
  sync.stop().then(
    () => {
      store.close();
      process.exit(0);
    },
    () => process.exit(1),
  );
});
