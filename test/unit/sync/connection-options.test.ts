import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloudSchema } from '../../../src/config/schema.js';
import { ErrorCode, isPortierError } from '../../../src/core/errors.js';
import { buildClientOptions, checkConnectionConfig } from '../../../src/sync/connection-options.js';
import { cloudTopics } from '../../../src/sync/topics.js';
import { tempDir } from '../../helpers/tmp.js';

const topics = cloudTopics('town', 'gw-1');

describe('cloud connection options', () => {
  it('ask for a persistent session, our own reconnect loop, and a retained offline will', () => {
    const cfg = cloudSchema.parse({ url: 'mqtt://127.0.0.1:1883', prefix: 'town' });
    const v5 = buildClientOptions(cfg, cfg.urls[0]!, 'gw-1', topics, 5);
    expect(v5).toMatchObject({
      clientId: 'portier-gw-1',
      protocolVersion: 5,
      clean: false,
      reconnectPeriod: 0,
      keepalive: 30,
      properties: { sessionExpiryInterval: 604_800 },
      will: { topic: 'town/gw-1/up/status', qos: 1, retain: true },
    });
    expect(v5.will?.payload.toString()).toBe('offline');
    const v4 = buildClientOptions(cfg, cfg.urls[0]!, 'gw-1', topics, 4);
    expect(v4.protocolVersion).toBe(4);
    expect(v4.properties).toBeUndefined();
  });

  it('read the CA, the client certificate and key, and the password from their files, and always verify', () => {
    const dir = tempDir();
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-----${f}-----\n`);
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    const cfg = cloudSchema.parse({
      url: 'mqtts://cloud.example:8883',
      username: 'gw-1',
      password_file: join(dir, 'pw'),
      ca_file: join(dir, 'ca.pem'),
      cert_file: join(dir, 'cert.pem'),
      key_file: join(dir, 'key.pem'),
    });
    const o = buildClientOptions(cfg, cfg.urls[0]!, 'gw-1', topics, 5);
    expect(o).toMatchObject({
      rejectUnauthorized: true,
      ca: '-----ca.pem-----\n',
      cert: '-----cert.pem-----\n',
      key: '-----key.pem-----\n',
      username: 'gw-1',
      password: 's3cret',
    });
  });

  it('refuse settings that can never work, and say which', () => {
    const plain = cloudSchema.parse({ url: 'mqtt://cloud.example:1883', ca_file: '/etc/ca.pem' });
    expect(() => checkConnectionConfig(plain)).toThrow(/not TLS.*use mqtts/);
    const half = cloudSchema.parse({ url: 'mqtts://cloud.example:8883', cert_file: '/etc/gw.pem' });
    expect(() => checkConnectionConfig(half)).toThrow(/go together/);
    const err = (() => {
      try {
        checkConnectionConfig(half);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(isPortierError(err, ErrorCode.ConfigInvalid)).toBe(true);
  });

  it('report a missing certificate file by name (retried: it may be provisioned later)', () => {
    const cfg = cloudSchema.parse({ url: 'mqtts://cloud.example:8883', ca_file: '/nonexistent/ca.pem' });
    expect(() => buildClientOptions(cfg, cfg.urls[0]!, 'gw-1', topics, 5)).toThrow(
      /cloud\.ca_file \/nonexistent\/ca\.pem: ENOENT/,
    );
  });
});
