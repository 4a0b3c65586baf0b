import type { DeviceSpec, PublicJwks, RevocationEntry, RevocationList } from './schema.js';

/** What an applied command may report back in its acknowledgement's `data`. */
export type CommandResult = Record<string, unknown> | undefined;

/**
 * The effects of cloud commands, injected by the gateway (the sync service only verifies, dedupes, dispatches and
 * acknowledges). Arguments are already shape-checked and, where required, signature-checked.
 *
 * Contract: a `check*` method inspects without changing anything and returns every problem (empty when good);
 * the matching apply method is called only after its check found none, so a bad bundle is refused whole before
 * anything is applied. Apply methods throw a PortierError (with a short reason in its message) on failure, and
 * should leave nothing half-applied (one SQLite transaction, or roll back, as `setConfig` must on a failed health
 * check). None of them may touch the outbox: provisioning never deletes or rewrites undelivered events.
 */
export interface CommandHandlers {
  /** Validate device entries against their drivers' schemas; every problem, by device. */
  checkDevices(devices: DeviceSpec[]): string[] | Promise<string[]>;
  /** Add or change devices (all of them, or none). */
  provision(devices: DeviceSpec[]): CommandResult | Promise<CommandResult>;
  /** Remove a runtime device; throws PortierError DeviceNotFound when unknown. */
  removeDevice(id: string): CommandResult | Promise<CommandResult>;
  /** Import issuer keys (kid and alg pinned, public only); `replace` swaps the whole set (rotation). */
  importKeys(jwks: PublicJwks, opts: { replace: boolean }): CommandResult | Promise<CommandResult>;
  /** Add revocations (pass ids or subjects). */
  revoke(entries: RevocationEntry[]): CommandResult | Promise<CommandResult>;
  /** Replace the whole revocation list; a version not above the last one applied is ignored (say so in data). */
  replaceRevocations(list: RevocationList): CommandResult | Promise<CommandResult>;
  /** Verify a pass for a lock exactly as a reader would, and open on grant. */
  openWithPass(lock: string, pass: string): Promise<{ granted: boolean; reason: string }>;
  /** Validate a whole config document (the config file's format); every problem, by path. */
  checkConfig(bundle: Record<string, unknown>): string[] | Promise<string[]>;
  /** Apply a config document; roll back and throw when it fails its health check. */
  setConfig(bundle: Record<string, unknown>): CommandResult | Promise<CommandResult>;
  /**
   * Set the time floor to `floorMs` (lower or higher), audited by the caller. `issuedAtS` is the command's signed
   * iat: one not after the last applied time-floor command's is refused, so an old command cannot be replayed.
   */
  setTimeFloor(floorMs: number, issuedAtS: number): CommandResult | Promise<CommandResult>;
}
