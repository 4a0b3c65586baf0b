/**
 * The memory benchmark's publisher, run as its own process: `node memory-publisher.js <brokerUrl> <sensors> <rate>
 * <seconds>` publishes ChirpStack uplinks of the parking stream at QoS 0, `rate` per second spread over ticks of
 * 100 ms, for `seconds`, then prints "published <count>".
 */
import mqtt from 'mqtt';
import { sensors, uplinks } from './parking-stream.js';

const [url, sensorsArg, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const list = sensors(Number(sensorsArg)).map((s) => ({ ...s, server: 'chirpstack' as const }));
const stream = uplinks(list, total);
const client = await mqtt.connectAsync(url!, { clientId: `memory-bench-pub-${process.pid}` });
const t0 = performance.now();
let sent = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    for (; sent < due; sent++) {
      const next = stream.next();
      if (next.done) break;
      client.publish(next.value.topic, next.value.body, { qos: 0 });
    }
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  }, 100);
});
process.stdout.write(`published ${sent}\n`);
await client.endAsync();
