import { describe, expect, it } from 'vitest';
import { PortierProcess } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

describe('the demo (npm start)', () => {
  it('comes up and logs a bay change and a Davis reading within 15 s of being ready, then stops on Ctrl+C', async () => {
    const demo = new PortierProcess(['demo'], { PORTIER_DEMO_DIR: tempDir('portier-demo-') });
    try {
      await demo.waitFor((l) => l.msg === 'gateway ready', 30_000, 'gateway ready');
      const isEvent = (type: string) => (l: Record<string, unknown>) =>
        (l.event as { type?: string } | undefined)?.type === type;
      const [bay, weather] = await Promise.all([
        demo.waitFor(isEvent('parking.occupancy'), 15_000, 'a parking occupancy change'),
        demo.waitFor(isEvent('weather.reading'), 15_000, 'a Davis weather reading'),
      ]);
      expect(bay.msg).toMatch(/bay is now (OCCUPIED|FREE)/);
      expect(weather.msg).toMatch(/°C/);
    } finally {
      demo.kill('SIGINT');
    }
    const exit = await demo.exited;
    expect(exit.code).toBe(0);
  }, 90_000);
});
