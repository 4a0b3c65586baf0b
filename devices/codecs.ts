/**
 * Every pure device codec Portier ships, listed explicitly by name (no directory scanning). Drivers, the stubs'
 * tests and `portier decode` look codecs up here. Append new codecs to CODECS.
 */
import { ErrorCode, PortierError } from '../src/core/errors.js';
import type { Codec } from './codec-kit.js';
import { boschTps110Codec } from './parking/codecs/bosch-tps110.js';
import { makeChirpstackCodec } from './parking/codecs/chirpstack.js';
import { dingtekDo201Codec } from './parking/codecs/dingtek-do201.js';
import { maxbotixCodec } from './parking/codecs/maxbotix.js';
import { milesightEm400MudCodec } from './parking/codecs/milesight-em400-mud.js';
import { nwaveNps310Codec, nwaveNps405Codec } from './parking/codecs/nwave.js';
import { davisLoopCodec } from './weather/codecs/davis-loop.js';
import { ecowittCodec } from './weather/codecs/ecowitt.js';
import { nmeaWeatherCodec } from './weather/codecs/nmea-weather.js';
import { rtl433Codec } from './weather/codecs/rtl433.js';
import { shellyCoiotCodec } from './weather/codecs/shelly-coiot.js';

export type {
  Codec,
  CodecInputKind,
  DecodedEvent,
  DecodedType,
  DecodeOptions,
  DecodeReason,
} from './codec-kit.js';
export { BENIGN_REASONS, isBenignDecode, reasonOfDecode } from './codec-kit.js';
export {
  type LoraUplink,
  parseChirpstackUplink,
  parseLoraUplink,
  parseTtsUplink,
} from './parking/codecs/chirpstack.js';

/** All codecs, in the order docs/codecs.md lists them. Names are unique (checked at load). */
export const CODECS: readonly Codec[] = [
  nwaveNps405Codec,
  nwaveNps310Codec,
  boschTps110Codec,
  milesightEm400MudCodec,
  dingtekDo201Codec,
  // The envelope resolves its device codec through this catalogue at decode time.
  makeChirpstackCodec((name) => findCodec(name)),
  maxbotixCodec,
  davisLoopCodec,
  rtl433Codec,
  nmeaWeatherCodec,
  ecowittCodec,
  shellyCoiotCodec,
];

const BY_NAME: ReadonlyMap<string, Codec> = new Map(CODECS.map((c) => [c.name, c]));
if (BY_NAME.size !== CODECS.length) throw new Error('two codecs share a name');

/** The names of every codec, for help texts and config schemas. */
export const CODEC_NAMES: readonly string[] = CODECS.map((c) => c.name);

/** Look a codec up by name, or throw DeviceUnknownDriver with the list of known names. */
export function getCodec(name: string): Codec {
  const c = BY_NAME.get(name);
  if (!c) {
    throw new PortierError(
      ErrorCode.DeviceUnknownDriver,
      `unknown codec "${name}" (known: ${CODEC_NAMES.join(', ')})`,
      {
        reason: 'unknown_codec',
        codec: name,
      },
    );
  }
  return c;
}

/** A codec by name, or undefined. */
export function findCodec(name: string): Codec | undefined {
  return BY_NAME.get(name);
}
