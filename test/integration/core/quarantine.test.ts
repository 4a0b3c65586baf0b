import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

describe('a database broken by a power cut', () => {
  it('is moved aside and kept, the gateway starts on a fresh one, and an alarm says so', async () => {
    const dir = tempDir('portier-q-');
    const state = join(dir, 'state');
    mkdirSync(state);
    // What a torn write can leave: a file that is not a database at all.
    const garbage = Buffer.alloc(16_384, 0xa5);
    writeFileSync(join(state, 'portier.db'), garbage);
    const tg = await startTestGateway({ dir, devices: [] });
    try {
      const kept = readdirSync(state).filter((f) => f.startsWith('portier.db.corrupt-') && !/-(wal|shm)$/.test(f));
      expect(kept).toHaveLength(1);
      expect(readFileSync(join(state, kept[0]!)).equals(garbage)).toBe(true);
      tg.gateway.store.events.flush();
      const alarms = tg.gateway.store.events.tail(10, { type: 'alarm' });
      expect(alarms.map((e) => e.data.alarm)).toEqual(['database_quarantined']);
      expect(String(alarms[0]!.data.quarantined_to)).toContain('portier.db.corrupt-');
    } finally {
      await tg.gateway.stop();
    }
  });
});
