/**
 * Objects the devices of one gateway share, by key, created on first use (a LoRaWAN router per network server on
 * the local link). One per gateway, handed to drivers through their context: never module state, so two gateways
 * in one process never share a router.
 */
export class SharedObjects {
  private readonly byKey = new Map<string, unknown>();

  get<T>(key: string, create: () => T): T {
    if (!this.byKey.has(key)) this.byKey.set(key, create());
    return this.byKey.get(key) as T;
  }
}
