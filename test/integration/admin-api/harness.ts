import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type AdminServer, startAdmin } from '../../../src/admin/server.js';
import { silentLogger } from '../../../src/core/logger.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

/** A parsed JSON answer, inspected with expect(). */
// biome-ignore lint/suspicious/noExplicitAny: JSON from the wire, checked field by field by the tests
export type Json = any;

export interface AdminHarness extends TestGateway {
  dir: string;
  gpioDir: string;
  stateDir: string;
  admin: AdminServer;
  /** Call the API with the admin token (or `token`), parse JSON answers. */
  call(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string | null; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Json; headers: Headers; text: string }>;
  stop(): Promise<void>;
}

/** A real gateway (sim GPIO, optional real broker) with the admin API on a free loopback port. */
export async function startAdminHarness(
  opts: { devices?: Array<{ id: string; driver: string; settings: Record<string, unknown> }>; brokerUrl?: string } = {},
): Promise<AdminHarness> {
  const dir = tempDir('portier-admin-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  const tg = await startTestGateway({
    dir,
    gpioDir,
    devices: opts.devices ?? [],
    ...(opts.brokerUrl ? { brokerUrl: opts.brokerUrl } : {}),
  });
  const stateDir = join(dir, 'state');
  const admin = await startAdmin(tg.gateway, { listen: '127.0.0.1:0', stateDir, log: silentLogger() });
  return {
    ...tg,
    dir,
    gpioDir,
    stateDir,
    admin,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const token = o.token === undefined ? admin.token : o.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | undefined = o.raw;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(`${admin.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, headers: res.headers, text };
    },
    async stop() {
      await admin.close();
      await tg.gateway.stop();
    },
  };
}

/** A client of /api/events/stream: the events received (parsed), in order. */
export interface StreamClient {
  events: Array<{ id: number; event: Json }>;
  status: number;
  close(): void;
}

/** Open the event stream with fetch (as the dashboard does) and collect its messages. */
export async function openStream(
  h: AdminHarness,
  opts: { query?: string; lastEventId?: number } = {},
): Promise<StreamClient> {
  const ctrl = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${h.admin.token}` };
  if (opts.lastEventId !== undefined) headers['last-event-id'] = String(opts.lastEventId);
  const res = await fetch(`${h.admin.url}/api/events/stream${opts.query ?? ''}`, { headers, signal: ctrl.signal });
  const client: StreamClient = { events: [], status: res.status, close: () => ctrl.abort() };
  if (!res.body) return client;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id !== undefined && data !== undefined) client.events.push({ id: Number(id), event: JSON.parse(data) });
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return client;
}
