import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../../src/config/load.js';
import { DriverRegistry } from '../../../src/core/driver-registry.js';

const drivers = new DriverRegistry([]);
const base = 'version: 1\ngateway: { id: gw-1, state_dir: /tmp/x }\n';

function cloudOf(cloud: string, env: NodeJS.ProcessEnv = {}): { urls?: string[]; problems?: string[] } {
  try {
    return { urls: parseConfigText(`${base}cloud: ${cloud}\n`, drivers, env).config.cloud?.urls ?? [] };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems };
    throw err;
  }
}

describe('cloud broker URLs: one node or the nodes of a cluster', () => {
  it('takes url as one URL, url as a comma-separated list, or urls as a list', () => {
    expect(cloudOf('{ url: "mqtts://a.example:8883" }').urls).toEqual(['mqtts://a.example:8883']);
    expect(cloudOf('{ url: "mqtts://a.example:8883, mqtts://b.example:8883" }').urls).toEqual([
      'mqtts://a.example:8883',
      'mqtts://b.example:8883',
    ]);
    expect(cloudOf('{ urls: ["mqtts://a.example:8883", "mqtts://b.example:8883"] }').urls).toEqual([
      'mqtts://a.example:8883',
      'mqtts://b.example:8883',
    ]);
  });

  it('refuses neither, both, an empty list and a bad item, naming the key', () => {
    expect(cloudOf('{ prefix: town }').problems?.join('\n')).toMatch(/cloud\.url.*one of the two/);
    expect(cloudOf('{ url: "mqtt://a:1883", urls: ["mqtt://b:1883"] }').problems?.join('\n')).toMatch(/cloud\.url/);
    expect(cloudOf('{ urls: [] }').problems?.join('\n')).toMatch(/cloud\.urls/);
    expect(cloudOf('{ url: "mqtt://a:1883, http://b" }').problems?.join('\n')).toMatch(/cloud\.url.*commas/);
  });

  it("lets PORTIER_CLOUD_MQTT_URL (one URL or a list) replace the file's list", () => {
    const env = { PORTIER_CLOUD_MQTT_URL: 'mqtt://127.0.0.1:1884,mqtt://127.0.0.1:1885' };
    expect(cloudOf('{ urls: ["mqtts://a.example:8883"] }', env).urls).toEqual([
      'mqtt://127.0.0.1:1884',
      'mqtt://127.0.0.1:1885',
    ]);
  });
});
