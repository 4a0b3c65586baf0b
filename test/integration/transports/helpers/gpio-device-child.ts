/**
 * A firmware-side process for the GPIO sim test: drives and watches lines through SimGpioDevice as told on stdin,
 * one command per line, and reports on stdout.
 *   set <line> <bit>        drive an input
 *   burst <line> <n>        toggle an input n times as fast as the CPU allows
 *   pulse <line> <ms>       drive 1 for ms, then 0
 *   watch <line>            report "edge <line> <bit>" for each change of a gateway output
 *   read <line>             report "value <line> <bit>"
 */
import { createInterface } from 'node:readline';
import type { Bit } from '../../../../src/core/links.js';
import { SimGpioDevice } from '../../../../src/transports/gpio/sim-device.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: gpio-device-child.ts DIR');
const device = new SimGpioDevice(dir);
const say = (line: string) => process.stdout.write(`${line}\n`);

const rl = createInterface({ input: process.stdin });
rl.on('line', (text) => {
  const [cmd, a = '', b = ''] = text.trim().split(/\s+/);
  const line = Number(a);
  switch (cmd) {
    case 'set':
      device.set(line, Number(b) as Bit);
      break;
    case 'burst': {
      let bit = device.read(line);
      for (let i = 0; i < Number(b); i++) {
        bit = (1 - bit) as Bit;
        device.set(line, bit);
      }
      break;
    }
    case 'pulse':
      void device.pulse(line, Number(b));
      break;
    case 'watch':
      device.watch(line, (bit) => say(`edge ${line} ${bit}`));
      break;
    case 'read':
      say(`value ${line} ${device.read(line)}`);
      break;
    default:
      say(`error unknown command ${cmd}`);
  }
  say(`done ${text.trim()}`);
});
rl.on('close', () => {
  device.close();
  process.exit(0);
});
say('ready');
