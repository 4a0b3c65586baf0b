import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseConfigText } from '../../../src/config/load.js';
import { defineDriver } from '../../../src/core/driver.js';
import { DriverRegistry } from '../../../src/core/driver-registry.js';

const relay = defineDriver({
  id: 'test-relay',
  kind: 'lock',
  transport: 'gpio',
  description: 'a relay for config tests',
  config: z
    .object({ relay_pin: z.number().int().min(0).max(27), open_time_ms: z.number().int().default(5000) })
    .strict(),
  events: ['lock.state'],
  create: () => ({ start() {}, stop() {} }),
});
const drivers = new DriverRegistry([relay]);

const good = `
version: 1
gateway: { id: gw-1, state_dir: /tmp/x }
devices:
  - { id: door-1, driver: test-relay, relay_pin: 17 }
`;

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText(text, drivers, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config loading', () => {
  it('fills defaults and validates each device with its driver schema', () => {
    const { config, devices } = parseConfigText(good, drivers);
    expect(config.log.level).toBe('info');
    expect(config.gateway.timezone).toBe('UTC');
    expect(devices).toEqual([
      { id: 'door-1', driver: 'test-relay', enabled: true, settings: { relay_pin: 17, open_time_ms: 5000 } },
    ]);
  });

  it('lists every problem by path instead of stopping at the first', () => {
    const problems = problemsOf(`
version: 1
gateway: { id: GW!, colour: blue }
log: { level: loud }
devices:
  - { id: door-1, driver: test-relay, relay_pin: 40 }
  - { id: door-2, driver: test-relay, relay_pin: "17", extra: 1 }
  - { id: door-3, driver: no-such-driver }
  - { id: door-1, driver: test-relay, relay_pin: 1 }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^gateway\.id: expected a device id/),
        expect.stringMatching(/^gateway: unknown key "colour"/),
        expect.stringMatching(/^log\.level: /),
        expect.stringMatching(/^devices\[0\]\.relay_pin: .*27/),
        expect.stringMatching(/^devices\[1\]\.relay_pin: expected number/),
        expect.stringMatching(/^devices\[1\]: unknown key "extra"/),
        expect.stringMatching(/^devices\[2\]\.driver: unknown driver "no-such-driver"/),
        expect.stringMatching(/^devices\[3\]\.id: duplicate device id "door-1"/),
      ]),
    );
    expect(problems).toHaveLength(8);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problemsOf('version: 1\ngateway: { id: x\n')[0]).toMatch(/^YAML line \d+/);
  });

  it('applies PORTIER_* overrides and validates them like file values', () => {
    const { config, notes } = parseConfigText(good, drivers, {
      PORTIER_STATE_DIR: '/srv/state',
      PORTIER_LOCAL_MQTT_URL: 'mqtt://10.0.0.2:1883',
      PORTIER_LOG_LEVEL: 'debug',
    });
    expect(config.gateway.state_dir).toBe('/srv/state');
    expect(config.local_mqtt?.url).toBe('mqtt://10.0.0.2:1883');
    expect(config.log.level).toBe('debug');
    expect(notes).toContain('override from PORTIER_STATE_DIR');
    expect(problemsOf(good, { PORTIER_LOCAL_MQTT_URL: 'http://nope' })[0]).toMatch(
      /^local_mqtt\.url: expected an MQTT URL/,
    );
  });

  it('migrates a version-0 file and refuses one from the future', () => {
    const { config, notes } = parseConfigText('gateway: { id: gw }\nmqtt: { url: "mqtt://127.0.0.1:1" }\n', drivers);
    expect(config.version).toBe(1);
    expect(config.local_mqtt?.url).toBe('mqtt://127.0.0.1:1');
    expect(notes[0]).toMatch(/v0 -> v1/);
    expect(() => parseConfigText('version: 9\ngateway: { id: gw }\n', drivers)).toThrow(/newer than this Portier/);
  });
});

describe('environment interpolation', () => {
  it('substitutes ${NAME} and ${NAME:-default} and names a missing variable by path', () => {
    const text =
      'version: 1\ngateway: { id: gw, state_dir: "${STATE:-/var/lib/x}/db" }\nlocal_mqtt: { url: "mqtt://${HOST}:1883" }\n';
    const { config } = parseConfigText(text, drivers, { HOST: 'broker.local' });
    expect(config.gateway.state_dir).toBe('/var/lib/x/db');
    expect(config.local_mqtt?.url).toBe('mqtt://broker.local:1883');
    expect(problemsOf(text)).toEqual(['local_mqtt.url: environment variable HOST is not set']);
  });
});
