import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startOperatorSurface } from '../../../src/admin/operator.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { freePort } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

describe('the operator surface of a gateway', () => {
  it('keeps the gateway running when the admin port is taken, says why, and starts the API once the port is free', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    );
    const port = await freePort();
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
    const tg = await startTestGateway({ dir: tempDir('portier-ops-'), devices: [] });
    const surface = await startOperatorSurface(tg.gateway, {
      log,
      listen: `127.0.0.1:${port}`,
      retentionDays: 30,
      adminRetryMs: 200,
    });
    expect(surface.admin).toBeUndefined();
    expect(surface.retention).toBeDefined();
    expect(lines.find((l) => String(l.msg).startsWith('admin API not started'))).toMatchObject({
      listen: `127.0.0.1:${port}`,
      reason: expect.stringMatching(/EADDRINUSE/),
    });
    expect(tg.gateway.healthy().healthy).toBe(true);

    await new Promise<void>((r) => squatter.close(() => r()));
    await eventually(() => surface.admin, 10_000, 'admin API started after the port was freed');
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    await surface.close();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await tg.gateway.stop();
  });
});
