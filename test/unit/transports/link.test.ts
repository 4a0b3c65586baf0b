import { describe, expect, it } from 'vitest';
import type { StateChange } from '../../../src/core/links.js';
import { silentLogger } from '../../../src/core/logger.js';
import { Backoff, SERIAL_BACKOFF } from '../../../src/transports/backoff.js';
import { ReconnectingLink } from '../../../src/transports/link.js';
import { eventually } from '../../helpers/eventually.js';

/** A link over a resource the test controls: each open() waits for the test to let it succeed or fail. */
class ScriptedLink extends ReconnectingLink {
  opens = 0;
  releases = 0;
  held = false;
  private pending: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor() {
    super(silentLogger(), new Backoff({ initialMs: 1, maxMs: 5 }, SERIAL_BACKOFF));
  }

  succeed(): void {
    this.held = true;
    this.pending?.resolve();
    this.pending = undefined;
  }

  fail(reason: string): void {
    this.pending?.reject(new Error(reason));
    this.pending = undefined;
  }

  get waiting(): boolean {
    return this.pending !== undefined;
  }

  drop(reason: string): void {
    this.lost(reason);
  }

  protected open(): Promise<void> {
    this.opens += 1;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }

  protected async release(): Promise<void> {
    this.releases += 1;
    this.held = false;
  }
}

function record(link: ReconnectingLink): StateChange[] {
  const seen: StateChange[] = [];
  link.onState((c) => seen.push(c));
  return seen;
}

describe('ReconnectingLink', () => {
  it('goes idle → connecting → up, and after a loss down (with the reason) → connecting → up', async () => {
    const link = new ScriptedLink();
    const seen = record(link);
    expect(link.state).toBe('idle');
    link.start();
    link.succeed();
    await eventually(() => link.state === 'up', 15_000, 'up');
    link.drop('cable pulled');
    await eventually(() => link.waiting, 15_000, 'second attempt');
    link.succeed();
    await eventually(() => link.state === 'up', 15_000, 'up again');
    expect(seen).toEqual([
      { state: 'connecting' },
      { state: 'up' },
      { state: 'down', reason: 'cable pulled' },
      { state: 'connecting' },
      { state: 'up' },
    ]);
    expect(link.releases).toBe(1);
    await link.stop();
    expect(link.state).toBe('stopped');
  });

  it('reports each failed attempt as down with its reason and keeps retrying until one succeeds', async () => {
    const link = new ScriptedLink();
    const seen = record(link);
    link.start();
    for (let i = 1; i <= 3; i++) {
      await eventually(() => link.waiting && link.opens === i, 15_000, `attempt ${i}`);
      link.fail(`refused ${i}`);
    }
    await eventually(() => link.waiting && link.opens === 4, 15_000, 'attempt 4');
    link.succeed();
    await eventually(() => link.state === 'up', 15_000, 'up');
    expect(seen.filter((c) => c.state === 'down').map((c) => c.reason)).toEqual([
      'refused 1',
      'refused 2',
      'refused 3',
    ]);
    await link.stop();
  });

  it('releases a resource that finished opening after stop(), and never reconnects once stopped', async () => {
    const link = new ScriptedLink();
    link.start();
    await eventually(() => link.waiting, 15_000, 'attempt');
    const stopped = link.stop();
    link.succeed();
    await stopped;
    expect(link.state).toBe('stopped');
    expect(link.held).toBe(false);
    link.drop('late close event');
    await new Promise((r) => setTimeout(r, 30));
    expect(link.opens).toBe(1);
    expect(link.state).toBe('stopped');
  });

  it('keeps working when a state listener throws', async () => {
    const link = new ScriptedLink();
    link.onState(() => {
      throw new Error('listener bug');
    });
    const seen = record(link);
    link.start();
    link.succeed();
    await eventually(() => link.state === 'up', 15_000, 'up');
    expect(seen.map((c) => c.state)).toEqual(['connecting', 'up']);
    await link.stop();
  });

  it('can be started again after stop, and an unsubscribed listener hears nothing more', async () => {
    const link = new ScriptedLink();
    const seen: StateChange[] = [];
    const off = link.onState((c) => seen.push(c));
    link.start();
    link.succeed();
    await eventually(() => link.state === 'up', 15_000, 'up');
    await link.stop();
    off();
    link.start();
    link.succeed();
    await eventually(() => link.state === 'up', 15_000, 'up after restart');
    expect(seen.map((c) => c.state)).toEqual(['connecting', 'up', 'stopped']);
    await link.stop();
  });
});
