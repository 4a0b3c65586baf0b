/** The simulated GPIO: the gateway's backend and the device side that stubs and tests drive it with. */
export { createSimBackend, type SimBackendOptions } from './sim-backend.js';
export { SimGpioDevice } from './sim-device.js';
