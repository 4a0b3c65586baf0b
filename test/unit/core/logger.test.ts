import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, withSyslogPrefix } from '../../../src/core/logger.js';

function capture(journal = false) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { log: createLogger({ level: 'trace', destination, journal }), text: () => chunks.join('') };
}

describe('log redaction', () => {
  it('hides a secret three levels deep, in arrays and in child bindings, and keeps the rest', () => {
    const { log, text } = capture();
    const pin = '482913';
    const secret = 'hunter2-very-secret';
    const pass = 'PT1:NCFOXN%TS3DH3ZSUZK+.V0ETOA9SYUHRJ5DPM4PGD1';
    log.child({ device: 'door-1', creds: { nested: { password: secret } } }).info(
      {
        request: { body: { holder: { pin, name: 'Ada' } } },
        list: [{ deep: { token: pass } }],
        cloud: { servers: [{ url: 'mqtts://cloud.example', auth: { Authorization: `Bearer ${secret}` } }] },
      },
      'decided',
    );
    const line = text();
    for (const s of [pin, secret, pass]) expect(line).not.toContain(s);
    // biome-ignore lint/suspicious/noExplicitAny: a parsed log line, read by path
    const parsed = JSON.parse(line) as any;
    expect(parsed.request.body.holder).toEqual({ pin: '[redacted]', name: 'Ada' });
    expect(parsed.list[0].deep.token).toBe('[redacted]');
    expect(parsed.cloud.servers[0].url).toBe('mqtts://cloud.example');
    expect(parsed.cloud.servers[0].auth.Authorization).toBe('[redacted]');
    expect(parsed.creds.nested.password).toBe('[redacted]');
  });

  it('keeps an error logged under err whole (message and stack)', () => {
    const { log, text } = capture();
    log.error({ err: new Error('serial port gone') }, 'down');
    const parsed = JSON.parse(text()) as { err: { message: string; stack: string } };
    expect(parsed.err.message).toBe('serial port gone');
    expect(parsed.err.stack).toContain('serial port gone');
  });
});

describe('syslog priority prefixes for the journal', () => {
  it('maps pino levels to sd-daemon(3) priorities', () => {
    const { log, text } = capture(true);
    log.trace('t');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.fatal('f');
    const prefixes = text()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(0, 3));
    expect(prefixes).toEqual(['<7>', '<7>', '<6>', '<4>', '<3>', '<2>']);
    expect(withSyslogPrefix('not a log line')).toBe('not a log line');
  });
});
