import { readFileSync } from 'node:fs';
import { CODEC_NAMES, type DecodeOptions, findCodec, reasonOfDecode } from '../../../devices/codecs.js';
import { isPortierError } from '../../core/errors.js';
import { type Command, output, str, UsageError } from '../command.js';

/** bytes: the most `portier decode -` reads from stdin (a ChirpStack envelope is well under this). */
const MAX_STDIN = 65_536;

function intOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer ${min}-${max}`);
  return n;
}

function numberOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
  return n;
}

/** INPUT as given, or stdin for `-`: raw bytes for a binary codec, text for the others. */
function readInput(raw: string, binary: boolean): Buffer | string {
  if (raw !== '-') return raw;
  const buf = readFileSync(0);
  if (buf.length > MAX_STDIN) throw new UsageError(`stdin is longer than ${MAX_STDIN} bytes`);
  return binary ? buf : buf.toString('utf8');
}

/** `k=v k=v` for people; JSON values keep strings quoted. */
function human(type: string, data: Record<string, unknown>): string {
  const fields = Object.entries(data).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  return [type, ...fields].join(' ');
}

const decode: Command = {
  path: ['decode'],
  summary: 'Decode one raw device input (hex, JSON line, sentence or form body) to the event a driver would emit',
  usage:
    'CODEC INPUT [--fport N] [--device-codec NAME] [--threshold-m X] [--rain-collector 0.01in|0.2mm|0.1mm] [--json]\n' +
    `  CODEC: ${CODEC_NAMES.join(', ')}\n` +
    '  INPUT: hex bytes for binary codecs, the text otherwise; "-" reads stdin (raw bytes for binary codecs)',
  options: {
    fport: { type: 'string', arg: 'N', description: 'LoRaWAN FPort, 1-223 (LoRaWAN codecs need it)' },
    'device-codec': { type: 'string', arg: 'NAME', description: 'for envelope codecs: the codec of the payload' },
    'threshold-m': {
      type: 'string',
      arg: 'X',
      description: 'm, 0.05-10: a distance sensor reports its bay occupied at or below this',
      default: "the codec's own",
    },
    'rain-collector': {
      type: 'string',
      arg: '0.01in|0.2mm|0.1mm',
      description: "the Davis rain collector's tip size",
      default: '0.01in',
    },
  },
  run(args, io) {
    const [name, raw, ...extra] = args.positionals;
    if (!name || raw === undefined) throw new UsageError('give CODEC and INPUT (see --help)');
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}" (quote INPUT if it has spaces)`);
    const codec = findCodec(name);
    if (!codec) throw new UsageError(`unknown codec "${name}" (known: ${CODEC_NAMES.join(', ')})`);
    const opts: DecodeOptions = {};
    const fport = intOption('fport', str(args, 'fport'), 0, 255);
    if (fport !== undefined) opts.fport = fport;
    const threshold = numberOption('threshold-m', str(args, 'threshold-m'));
    if (threshold !== undefined) opts.threshold_m = threshold;
    const deviceCodec = str(args, 'device-codec');
    if (deviceCodec !== undefined) opts.device_codec = deviceCodec;
    const rain = str(args, 'rain-collector');
    if (rain !== undefined) opts.rain_collector = rain;
    const input = readInput(raw, codec.input === 'hex');
    try {
      const event = codec.decode(input, opts);
      output(io, args, event, () => human(event.type, event.data));
      return 0;
    } catch (err) {
      if (!isPortierError(err)) throw err;
      // One line: the codec's message and its stable reason code, which is what a driver counts.
      io.err(`portier decode: ${err.message.split('\n')[0]} (reason: ${reasonOfDecode(err) ?? 'unknown'})`);
      return 1;
    }
  },
};

export const decodeCommands: readonly Command[] = [decode];
