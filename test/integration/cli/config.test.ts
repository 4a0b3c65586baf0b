import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PortierProcess } from '../../helpers/daemon.js';
import { tempDir } from '../../helpers/tmp.js';

async function portier(args: string[], env: NodeJS.ProcessEnv = {}) {
  const p = new PortierProcess(args, env);
  const { code } = await p.exited;
  return {
    code,
    stdout: p.lines.map((l) => (l.raw ? l.msg : JSON.stringify(l))).join('\n'),
    stderr: p.stderr.join('\n'),
  };
}

describe('portier config', () => {
  it('check lists every problem by path and exits 1, without a stack trace', async () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(
      file,
      `version: 1
gateway: { id: gw }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: 31 }
  - { id: bay-1, driver: chirpstack-parking, dev_eui: nothex, codec: nwave-nps405 }
  - { id: w, driver: davis-vantage, path: /dev/ttyUSB0, baud_rate: 1234 }
`,
    );
    const { code, stderr } = await portier(['config', 'check', '--config', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/3 problem\(s\)/);
    expect(stderr).toMatch(/devices\[0\]\.relay_pin: expected a BCM line 0-27/);
    expect(stderr).toMatch(/devices\[1\]\.dev_eui: expected a DevEUI of 16 hex digits/);
    expect(stderr).toMatch(/devices\[2\]\.baud_rate: /);
    expect(stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('check accepts the demo and example configs, and --json reports the device count', async () => {
    const { code, stdout } = await portier(['config', 'check', '--config', 'config/demo.yaml', '--json'], {
      PORTIER_DEMO_DIR: tempDir(),
    });
    expect(code).toBe(0);
    // Counted independently of the loader: the device entries in the YAML itself.
    const declared = (parse(readFileSync('config/demo.yaml', 'utf8')) as { devices: unknown[] }).devices.length;
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, devices: declared });
    const example = await portier(['config', 'check', '--config', 'config/example.yaml', '--json']);
    expect(example.code).toBe(0);
  });

  it('run refuses a bad config with the problems on stderr and exit 1', async () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'version: 1\ngateway: { id: "not valid" }\n');
    const { code, stderr } = await portier(['run', '--config', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/gateway\.id: expected a device id/);
  });

  it('the committed config/portier.schema.json is what config schema prints, and the example configs name it', async () => {
    const { code, stdout } = await portier(['config', 'schema']);
    expect(code).toBe(0);
    const committed = JSON.parse(readFileSync('config/portier.schema.json', 'utf8')) as unknown;
    // Regenerate with: node dist/src/cli/bin.js config schema > config/portier.schema.json
    expect(committed).toEqual(JSON.parse(stdout));
    for (const file of ['config/example.yaml', 'config/demo.yaml']) {
      const first = readFileSync(file, 'utf8').split('\n')[0];
      expect(first, file).toBe('# yaml-language-server: $schema=./portier.schema.json');
    }
  });

  it('schema prints a JSON Schema with each driver under devices', async () => {
    const { code, stdout } = await portier(['config', 'schema']);
    expect(code).toBe(0);
    const schema = JSON.parse(stdout) as { properties: { devices: { items: { oneOf: Array<{ title: string }> } } } };
    expect(schema.properties.devices.items.oneOf.map((d) => d.title)).toEqual(
      expect.arrayContaining(['gpio-relay-lock', 'serial-qr-reader', 'chirpstack-parking', 'davis-vantage']),
    );
  });

  it('unknown commands and missing arguments fail with one line and a non-zero exit', async () => {
    const unknown = await portier(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')).toHaveLength(1);
    const missing = await portier(['config', 'check'], { PORTIER_CONFIG: '' });
    expect(missing.code).toBe(2);
  });
});
