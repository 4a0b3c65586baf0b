import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/tmp.js';
import { portier } from '../access/cli.js';

describe('portier issuer: config and schema', () => {
  it('the committed config/issuer.schema.json is what `issuer schema` prints', async () => {
    const { code, stdout } = await portier(['issuer', 'schema']);
    expect(code).toBe(0);
    // Regenerate with: node dist/src/cli/bin.js issuer schema > config/issuer.schema.json
    expect(JSON.parse(readFileSync('config/issuer.schema.json', 'utf8'))).toEqual(JSON.parse(stdout));
    expect(JSON.parse(stdout).properties.doors.items.properties.features).toBeDefined();
  });

  it('lists every problem of a bad config by path, one line each, and exits 1', async () => {
    const dir = tempDir('portier-issuer-cfg-');
    const file = join(dir, 'issuer.yaml');
    writeFileSync(
      file,
      `version: 1
listen: { port: 8090, public_url: 'wc.example-town.de' }
state_dir: ./state
key: { file: key.json, iss: 'http://issuer.example-town.de' }
broker: { url: 'broker.example-town.de:8883', pasword_file: x }
sms: { number: 'call me' }
doors:
  - { id: toilet-1, gateway: gw-1, name: { de: WC, en: WC }, features: { keypad: true }, sms_keyword: WC1 }
  - { id: toilet-1, gateway: gw-1, name: { de: WC }, pin_length: 6, sms_keyword: wc1, policy: { pass_lifetime_s: 86400 } }
  - { id: toilet-3, gateway: '\${GATEWAY_UNSET}', name: { de: WC, en: WC } }
`,
    );
    const interp = await portier(['issuer', 'check', '--config', file]);
    expect(interp.code).toBe(1);
    expect(interp.stderr).toContain('doors[2].gateway');
    expect(interp.stderr).toContain('GATEWAY_UNSET');
    const r = await portier(['issuer', 'check', '--config', file], { env: { GATEWAY_UNSET: 'gw-3' } });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').map((l) => l.trim());
    for (const expected of [
      'listen.public_url: expected an http:// or https:// URL',
      'key.iss: expected an https:// URL',
      'broker: unknown key "pasword_file"',
      'sms.number: expected a phone number such as +49 170 1234567',
      'doors[0].pin_secret_file: a door with a keypad needs pin_secret_file (the PIN secret shared with its gateway)',
      'doors[1].id: duplicate door "toilet-1"',
      'doors[1].sms_keyword: duplicate keyword "WC1"',
      'doors[1].policy.pass_lifetime_s: Too big: expected number to be <=3600',
    ]) {
      expect(lines, expected).toContain(expected);
    }
    expect(r.stderr).toMatch(/broker\.url: expected an MQTT URL/);
    expect(r.stderr).toMatch(/doors\[1\]\.name\.en: /);
    expect(r.stderr).toMatch(/doors\[1\]\.pin_length: /);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('refuses an issuer key without a kid, naming the file', async () => {
    const dir = tempDir('portier-issuer-key-');
    const { privateKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'key.json');
    writeFileSync(keyFile, JSON.stringify(privateKey.export({ format: 'jwk' })), { mode: 0o600 });
    const file = join(dir, 'issuer.yaml');
    writeFileSync(
      file,
      `version: 1
listen: { port: 0, public_url: 'https://wc.example-town.de' }
state_dir: ./state
key: { file: key.json, iss: 'https://wc.example-town.de' }
doors: [ { id: toilet-1, gateway: gw-1, name: { de: WC, en: WC } } ]
`,
    );
    const r = await portier(['issuer', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`issuer key ${keyFile}: the JWK needs a kid`);
  });
});
