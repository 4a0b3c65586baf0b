import { describe, expect, it } from 'vitest';
import { topicMatches, validateFilter, validateTopic } from '../../../src/transports/mqtt-topic.js';

// Examples from OASIS MQTT Version 3.1.1 (2014), §4.7.1.2 (multi-level wildcard), §4.7.1.3 (single-level
// wildcard) and §4.7.2 (topics beginning with $), restated as data.
const SPEC: Array<[filter: string, topic: string, matches: boolean]> = [
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/#', 'sport', true],
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player2', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/+', 'sport', false],
  ['sport/+', 'sport/', true],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+', '/finance', false],
  ['#', '$SYS/broker/uptime', false],
  ['+/monitor/Clients', '$SYS/monitor/Clients', false],
  ['$SYS/#', '$SYS/broker/uptime', true],
  ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
];

describe('topicMatches', () => {
  it.each(SPEC)('%s vs %s → %s (MQTT 3.1.1 §4.7)', (filter, topic, matches) => {
    expect(topicMatches(filter, topic)).toBe(matches);
  });

  it('matches Portier topics by their own filter only', () => {
    expect(topicMatches('portier/+/set', 'portier/door-1/set')).toBe(true);
    expect(topicMatches('portier/+/set', 'portier/door-1/state')).toBe(false);
    expect(topicMatches('portier/door-1/#', 'portier/door-2/set')).toBe(false);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
    expect(topicMatches('a/b/c', 'a/b')).toBe(false);
  });

  it('matches a shared subscription by the filter after $share/<group>/ (MQTT 5.0 §4.8.2)', () => {
    expect(topicMatches('$share/gw/portier/+/event', 'portier/x/event')).toBe(true);
    expect(topicMatches('$share/gw/portier/+/event', 'portier/x/state')).toBe(false);
  });
});

describe('validateFilter and validateTopic', () => {
  it('refuses wildcards that are not whole levels (MQTT 3.1.1 §4.7.1.2, §4.7.1.3)', () => {
    for (const bad of ['sport/tennis#', 'sport/tennis/#/ranking', 'sport+', '', '$share/gw']) {
      expect(() => validateFilter(bad), bad).toThrow(/bad MQTT topic filter/);
    }
    for (const good of ['#', '+', 'sport/+/player1', '+/tennis/#', '$share/gw/a/#']) validateFilter(good);
  });

  it('refuses wildcards and empty names in topics to publish to', () => {
    for (const bad of ['', 'a/+', 'a/#']) expect(() => validateTopic(bad)).toThrow(/bad MQTT topic/);
    validateTopic('portier/bridge/state');
  });
});
