import { describe, expect, it } from 'vitest';
import type { PortierEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore } from '../../../src/store/store.js';
import { eventually } from '../../helpers/eventually.js';
import { tempDir } from '../../helpers/tmp.js';

/** A few turns of the event loop: long enough for a commit scheduled at the next turn to have happened. */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** The event log with the daemon's commit window (docs/sync.md, Durability), here a minute so it never ends alone. */
function windowed() {
  const store = openStore({ stateDir: tempDir(), gatewayId: 'gw', log: silentLogger() });
  store.events.useCommitWindow(60_000);
  const heard: PortierEvent[] = [];
  store.events.onCommitted((events) => heard.push(...events));
  return { store, heard };
}

describe('the commit window', () => {
  it('keeps readings in memory until the window ends, and a flush commits them', async () => {
    const { store, heard } = windowed();
    store.events.record({ dev: 'bay-1', type: 'parking.occupancy', data: { occupied: true } });
    store.events.record({ dev: 'davis-1', type: 'weather.reading', data: { temperature_c: 4.5 } });
    await turns();
    expect(heard).toHaveLength(0);
    store.events.flush();
    expect(heard.map((e) => e.type)).toEqual(['parking.occupancy', 'weather.reading']);
    store.close();
  });

  it.each(['device.health', 'door.state', 'lock.state'] as const)(
    'a %s closes the window at once and takes the queued readings with it, in order',
    async (type) => {
      const { store, heard } = windowed();
      store.events.record({ dev: 'bay-1', type: 'parking.occupancy', data: { occupied: true } });
      store.events.record({ dev: 'dev-1', type, data: { up: true, state: 'closed' } });
      await eventually(() => heard.length === 2, 2_000, `the ${type} committed`);
      expect(heard.map((e) => [e.seq, e.type])).toEqual([
        [1, 'parking.occupancy'],
        [2, type],
      ]);
      store.close();
    },
  );
});
