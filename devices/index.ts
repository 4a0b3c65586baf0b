import type { DriverDefinition } from '../src/core/driver.js';
import { DriverRegistry } from '../src/core/driver-registry.js';
import { gpioRelayLock } from './locks/gpio-relay.js';
import { chirpstackParking, ttsParking } from './parking/chirpstack-parking.js';
import { coapParking } from './parking/coap-parking.js';
import { loopDetector } from './parking/loop-detector.js';
import { maxbotixParking } from './parking/maxbotix-parking.js';
import { parkingZone } from './parking/parking-zone.js';
import { serialQrReader } from './readers/serial-qr.js';
import { davisVantage } from './weather/davis-vantage.js';

/** Every driver Portier ships, listed explicitly (no directory scanning). Append new drivers here. */
export const DRIVERS: readonly DriverDefinition[] = [
  gpioRelayLock,
  serialQrReader,
  chirpstackParking,
  davisVantage,
  ttsParking,
  loopDetector,
  maxbotixParking,
  coapParking,
  parkingZone,
];

export function builtinDrivers(): DriverRegistry {
  return new DriverRegistry(DRIVERS);
}
