import { CoapResourceServer } from './coap-server.js';

/** RFC 8428 content format of application/senml+json. */
export const SENML_JSON = 110;

/**
 * A bay sensor that serves its state as a CoAP resource (`/parking`, observable) in SenML (RFC 8428): a
 * `presence` boolean, the measured `distance` in m, the battery in V and the temperature in °C, under a base name
 * of the sensor's EUI-64 URN, as RFC 8428's examples write them.
 */
export class CoapBaySensorStub {
  readonly server = new CoapResourceServer();
  readonly path = '/parking';
  private occupied = false;

  constructor(private readonly eui = '0024befffe804ff1') {}

  async start(port = 0): Promise<string> {
    const p = await this.server.start(port);
    this.publish();
    return `coap://127.0.0.1:${p}${this.path}`;
  }

  /** The SenML pack for a state. */
  pack(occupied: boolean, distanceM = occupied ? 0.42 : 1.9): string {
    return JSON.stringify([
      { bn: `urn:dev:mac:${this.eui}:`, bt: Math.floor(Date.now() / 1000), n: 'presence', vb: occupied },
      { n: 'distance', u: 'm', v: distanceM },
      { n: 'battery', u: 'V', v: 3.61 },
      { n: 'temperature', u: 'Cel', v: 11.5 },
    ]);
  }

  /** Change the bay's state (observers are notified). */
  set(occupied: boolean): void {
    this.occupied = occupied;
    this.publish();
  }

  /** Serve any body (malformed readings for tests). */
  setRaw(body: string): void {
    this.server.set(this.path, body, SENML_JSON);
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  private publish(): void {
    this.server.set(this.path, this.pack(this.occupied), SENML_JSON);
  }
}
