import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  formatNotifyMessage,
  parseNotifySocket,
  SdNotifier,
  startWatchdog,
  watchdogIntervalMs,
} from '../../../src/admin/sd-notify.js';
import { createLogger } from '../../../src/core/logger.js';

/** Protocol facts from sd_notify(3) and sd_watchdog_enabled(3) (freedesktop.org systemd man pages). */

function capture(): { log: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('parseNotifySocket', () => {
  it('reads an absolute path, an @abstract name, and nothing when unset', () => {
    expect(parseNotifySocket('/run/systemd/notify')).toEqual({ kind: 'path', path: '/run/systemd/notify' });
    expect(parseNotifySocket('@/org/freedesktop/systemd1/notify')).toEqual({
      kind: 'abstract',
      name: '/org/freedesktop/systemd1/notify',
    });
    expect(parseNotifySocket(undefined)).toBeUndefined();
    expect(parseNotifySocket('')).toBeUndefined();
  });

  it('calls anything else unsupported (relative paths, a bare @, vsock addresses)', () => {
    for (const v of ['notify.sock', '@', 'vsock:2:1234']) {
      expect(parseNotifySocket(v)).toEqual({ kind: 'unsupported', value: v });
    }
  });
});

describe('formatNotifyMessage', () => {
  it('joins assignments with newlines', () => {
    expect(formatNotifyMessage({ READY: 1, STATUS: 'up: 4 devices' })).toBe('READY=1\nSTATUS=up: 4 devices');
  });

  it('flattens CR and LF in values and refuses lower-case or odd field names', () => {
    expect(formatNotifyMessage({ STATUS: 'a\r\nREADY=1\nb' })).toBe('STATUS=a READY=1 b');
    expect(() => formatNotifyMessage({ status: 'x' })).toThrow(/upper-case/);
    expect(() => formatNotifyMessage({ 'READY=1\nX': 1 })).toThrow(/upper-case/);
  });
});

describe('watchdogIntervalMs', () => {
  it('is half of WATCHDOG_USEC in ms', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' })).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '1000' })).toBe(1);
  });

  it('is off without WATCHDOG_USEC, with a bad value, or when WATCHDOG_PID names another process', () => {
    expect(watchdogIntervalMs({})).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '0' })).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' })).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, 4242)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242' }, 4242)).toBe(15_000);
  });
});

describe('SdNotifier without a usable socket', () => {
  it('is disabled and silent when NOTIFY_SOCKET is unset', () => {
    const { log, lines } = capture();
    const n = new SdNotifier({ env: {}, log });
    expect(n.enabled).toBe(false);
    expect(n.problem).toBeUndefined();
    expect(n.ready()).toBe(false);
    expect(lines()).toEqual([]);
  });

  it('refuses an abstract socket (unix-dgram cannot address one) and says so in the log', () => {
    const { log, lines } = capture();
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, log });
    expect(n.enabled).toBe(false);
    expect(n.problem).toBe('abstract_socket_unsupported');
    expect(n.ready()).toBe(false);
    expect(lines()).toEqual([expect.objectContaining({ level: 50, reason: 'abstract_socket_unsupported' })]);
  });

  it('refuses a path longer than sun_path instead of letting it be truncated', () => {
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: `/tmp/${'x'.repeat(110)}` } });
    expect(n.enabled).toBe(false);
    expect(n.problem).toBe('socket_path_too_long');
  });

  it('refuses an address it does not understand', () => {
    expect(new SdNotifier({ env: { NOTIFY_SOCKET: 'vsock:2:9' } }).problem).toBe('unsupported_address');
  });
});

describe('startWatchdog', () => {
  it('runs no timer when the notifier is disabled', () => {
    const w = startWatchdog({
      notifier: new SdNotifier({ env: {} }),
      env: { WATCHDOG_USEC: '1000' },
      isHealthy: () => true,
    });
    expect(w.intervalMs).toBeUndefined();
    w.stop();
  });

  it('treats a throwing or rejecting health check as unhealthy', async () => {
    const results: Array<{ healthy: boolean; reason?: string }> = [];
    let mode: 'throw' | 'reject' = 'throw';
    const w = startWatchdog({
      notifier: new SdNotifier({ env: {} }),
      isHealthy: () => {
        if (mode === 'throw') throw new Error('db closed');
        return Promise.reject(new Error('timeout'));
      },
      onTick: (r) => results.push({ healthy: r.healthy, ...(r.reason ? { reason: r.reason } : {}) }),
    });
    expect(await w.tick()).toBe(false);
    mode = 'reject';
    expect(await w.tick()).toBe(false);
    expect(w.healthy).toBe(false);
    expect(results).toEqual([
      { healthy: false, reason: 'health check failed: db closed' },
      { healthy: false, reason: 'health check failed: timeout' },
    ]);
    w.stop();
  });

  it('counts a check still pending when the next one is due as unhealthy', async () => {
    let release: (v: boolean) => void = () => {};
    const results: boolean[] = [];
    const w = startWatchdog({
      notifier: new SdNotifier({ env: {} }),
      isHealthy: () => new Promise<boolean>((r) => (release = r)),
      onTick: (r) => results.push(r.healthy),
    });
    const first = w.tick();
    expect(await w.tick()).toBe(false);
    release(true);
    await first;
    expect(results).toEqual([false, true]);
    w.stop();
  });
});
