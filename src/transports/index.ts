import type { Logger } from 'pino';
import type { CoapLink, GpioBackend, MqttLink, SerialLink, SerialOptions } from '../core/links.js';
import { createCoapLink } from './coap.js';
import { createGpioBackend, type GpioBackendOptions } from './gpio/index.js';
import { createMqttLink, type MqttLinkOptions } from './mqtt.js';
import { createSerialLink } from './serial.js';

export type * from '../core/links.js';
export { type CoapLinkOptions, createCoapLink } from './coap.js';
export { createGpioBackend, type GpioBackendOptions, SimGpioDevice } from './gpio/index.js';
export { createMqttLink, type MqttLinkOptions, type MqttStateMessage } from './mqtt.js';
export { topicMatches } from './mqtt-topic.js';
export { createSerialLink } from './serial.js';

/** The real links, as the gateway's TransportFactories (src/app/gateway.ts) expects them. */
export const defaultTransports = {
  serial: (opts: SerialOptions, log: Logger): SerialLink => createSerialLink(opts, log),
  mqtt: (opts: MqttLinkOptions, log: Logger): MqttLink => createMqttLink(opts, log),
  gpio: (opts: GpioBackendOptions, log: Logger): GpioBackend => createGpioBackend(opts, log),
  coap: (log: Logger): CoapLink => createCoapLink(log),
};
