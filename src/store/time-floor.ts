import { ErrorCode, PortierError } from '../core/errors.js';
import type { Store } from './store.js';

/** meta key: the signed iat (s) of the last `time-floor` command applied, so an older one is never replayed */
const COMMAND_IAT_KEY = 'time_floor_command_iat';

/** What an operator's setting of the time floor changed (ISO times; null = no floor). */
export type FloorChange = {
  floor: string | null;
  previous: string | null;
};

const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

/**
 * An operator sets the time floor: lower (after an issuer with a wrong clock raised it), higher (a gateway that has
 * never known the time), or 0 to clear it. A running gateway in another process adopts it (Clock.reload).
 */
export function setTimeFloor(store: Store, ms: number): FloorChange {
  const previous = store.clock.timeFloor();
  store.clock.setByOperator(ms);
  return { floor: iso(ms), previous: iso(previous) };
}

/**
 * The signed `time-floor` command: like `setTimeFloor`, but only for a command issued after the last one applied
 * (its signed iat), so an old command replayed after its id left the journal cannot set the floor back.
 */
export function setFloorOnce(store: Store, ms: number, issuedAtS: number): FloorChange & { issued_at: number } {
  return store.db.transaction(() => {
    const last = Number(store.meta.get(COMMAND_IAT_KEY) ?? '0');
    if (issuedAtS <= last) {
      throw new PortierError(
        ErrorCode.SyncCommandRejected,
        `stale: a time-floor command issued at ${new Date(last * 1000).toISOString()} was applied already`,
      );
    }
    store.meta.set(COMMAND_IAT_KEY, String(issuedAtS));
    return { ...setTimeFloor(store, ms), issued_at: issuedAtS };
  })();
}
