/**
 * The benchmark's publisher, run as its own process so it does not share a core's event loop with what it
 * measures: `node parking-publisher.js <brokerUrl> <count> <sensors> [qos]` publishes the parking stream at QoS 0
 * (or 1, as ChirpStack set to `qos=1` does) as fast as the broker takes it, then prints "published <count> in <ms> ms".
 */
import mqtt from 'mqtt';
import { sensors, uplinks } from './parking-stream.js';

const [url, countArg, sensorsArg, qosArg] = process.argv.slice(2);
const qos = qosArg === '1' ? 1 : 0;
const count = Number(countArg);
const list = sensors(Number(sensorsArg));
// Build the whole stream first: the measured rate must be the wires', not JSON.stringify's.
const stream = [...uplinks(list, count)].map((u) => ({ topic: u.topic, body: Buffer.from(u.body) }));
const client = await mqtt.connectAsync(url!, { clientId: `parking-bench-pub-${process.pid}` });
const t0 = performance.now();
let i = 0;
await new Promise<void>((resolve) => {
  const step = (): void => {
    // Chunks, yielding between them, with the socket's backpressure respected through the last write's callback.
    const end = Math.min(stream.length, i + 500);
    for (; i < end - 1; i++) client.publish(stream[i]!.topic, stream[i]!.body, { qos });
    if (i >= stream.length) {
      resolve();
      return;
    }
    const last = stream[i++]!;
    client.publish(last.topic, last.body, { qos }, () => {
      if (i >= stream.length) resolve();
      else setImmediate(step);
    });
  };
  step();
});
process.stdout.write(`published ${count} in ${Math.round(performance.now() - t0)} ms\n`);
await client.endAsync();
