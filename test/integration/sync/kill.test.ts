import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore } from '../../../src/store/store.js';
import { ROOT } from '../../helpers/daemon.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';
import { CloudConsumer, missing, producedIds, settle } from './harness.js';

/** The child runs from dist/ (`npm test` builds it first), as the daemon does in the e2e tests. */
const CHILD = join(ROOT, 'dist', 'test', 'integration', 'sync', 'gateway-child.js');
const TOTAL = 100_000;
const KILLS = 20;

function spawnGateway(
  dir: string,
  url: string,
): { proc: ChildProcess; produced: Promise<void>; exited: Promise<void> } {
  const proc = spawn(process.execPath, [CHILD, dir, url, String(TOTAL)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const produced = new Promise<void>((resolve) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith('produced')) resolve();
    });
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return { proc, produced, exited };
}

describe('cloud uplink under kill -9', () => {
  let broker: Broker | undefined;
  let cloud: CloudConsumer | undefined;
  let child: ChildProcess | undefined;

  afterEach(async () => {
    child?.kill('SIGKILL');
    await cloud?.stop();
    await broker?.stop();
    child = cloud = broker = undefined;
  });

  it(`delivers every id produced while the gateway is killed ${KILLS} times during a ${TOTAL}-event run`, async () => {
    broker = await startMosquitto();
    cloud = await CloudConsumer.start(broker.url, 'cloud-kill');
    const dir = tempDir('portier-kill-');
    // Kill at random moments: while starting, while recording, while batches await their PUBACK.
    for (let k = 0; k < KILLS; k++) {
      const g = spawnGateway(dir, broker.url);
      child = g.proc;
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 2500));
      g.proc.kill('SIGKILL');
      await g.exited;
    }
    const last = spawnGateway(dir, broker.url);
    child = last.proc;
    await last.produced;
    // The last run drains what is left; then compare with what the log holds.
    const consumer = cloud;
    await settle(() => consumer.ids().size >= TOTAL, 120_000);
    last.proc.kill('SIGTERM');
    await last.exited;

    const store = openStore({ stateDir: dir, gatewayId: 'gw-kill', log: silentLogger() });
    const produced = producedIds(store);
    const seqs = store.db.prepare('SELECT MIN(seq) AS lo, MAX(seq) AS hi, COUNT(*) AS n FROM events').get();
    store.close();
    expect(seqs).toEqual({ lo: 1, hi: TOTAL, n: TOTAL });
    const received = consumer.ids();
    expect(missing(produced, received)).toEqual({ count: 0, sample: [] });
    expect(received.size).toBe(produced.length);
  }, 240_000);
});
