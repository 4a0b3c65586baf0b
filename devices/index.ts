import type { DriverDefinition } from '../src/core/driver.js';
import { DriverRegistry } from '../src/core/driver-registry.js';
import { gpioRelayLock } from './locks/gpio-relay.js';
import { tasmotaRelayLock } from './locks/tasmota-relay.js';
import { publicToilet } from './locks/toilet.js';
import { usbRelayLock } from './locks/usb-relay.js';
import { chirpstackParking, ttsParking } from './parking/chirpstack-parking.js';
import { coapParking } from './parking/coap-parking.js';
import { loopDetector } from './parking/loop-detector.js';
import { maxbotixParking } from './parking/maxbotix-parking.js';
import { parkingZone } from './parking/parking-zone.js';
import { httpPassReader } from './readers/http-pass.js';
import { serialQrReader } from './readers/serial-qr.js';
import { wiegandReader } from './readers/wiegand.js';
import { davisVantage } from './weather/davis-vantage.js';
import { ecowittWeather } from './weather/ecowitt-weather.js';
import { nmeaWeatherStation } from './weather/nmea-weather-station.js';
import { rtl433Weather } from './weather/rtl433-weather.js';
import { shellyHt } from './weather/shelly-ht.js';

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
  rtl433Weather,
  nmeaWeatherStation,
  ecowittWeather,
  shellyHt,
  wiegandReader,
  httpPassReader,
  usbRelayLock,
  tasmotaRelayLock,
  publicToilet,
];

export function builtinDrivers(): DriverRegistry {
  return new DriverRegistry(DRIVERS);
}
