import { ErrorCode, PortierError } from '../core/errors.js';
import type { EventLog } from './event-log.js';
import type { MetaStore } from './meta.js';
import type { Store } from './store.js';

/**
 * meta key: operator changes of the floor made by the CLI, waiting to be recorded as `provisioning.change` events.
 * A one-shot command must not write events beside a running daemon (each process numbers `seq` itself), so the
 * daemon records them when it adopts the change, or the next start does.
 */
const PENDING_AUDIT_KEY = 'time_floor_audit_pending';

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

/** The CLI's `portier time floor --set|--reset`: set it, and leave the audit record for the gateway to write. */
export function setTimeFloorFromCli(store: Store, ms: number): FloorChange {
  return store.transaction(() => {
    const change = setTimeFloor(store, ms);
    const pending = readPending(store.meta);
    const action = ms > 0 ? 'time_floor_set' : 'time_floor_cleared';
    pending.push({ action, ...change, actor: 'cli', at: new Date().toISOString() });
    store.meta.set(PENDING_AUDIT_KEY, JSON.stringify(pending));
    return change;
  });
}

/** Record the CLI's floor changes still waiting as durable `provisioning.change` events; returns how many. */
export function recordFloorAudits(store: { meta: MetaStore; events: EventLog }, dev: string): number {
  const pending = readPending(store.meta);
  if (!pending.length) return 0;
  for (const data of pending) store.events.recordNow({ dev, type: 'provisioning.change', data });
  store.meta.set(PENDING_AUDIT_KEY, '[]');
  return pending.length;
}

function readPending(meta: MetaStore): Array<Record<string, unknown>> {
  const raw = meta.get(PENDING_AUDIT_KEY);
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? (parsed as Array<Record<string, unknown>>) : [];
  } catch {
    return [];
  }
}

/**
 * The signed `time-floor` command: like `setTimeFloor`, but only for a command issued after the last one applied
 * (its signed iat), so an old command replayed after its id left the journal cannot set the floor back.
 */
export function setFloorOnce(store: Store, ms: number, issuedAtS: number): FloorChange & { issued_at: number } {
  return store.transaction(() => {
    const last = Number(store.meta.get(COMMAND_IAT_KEY) ?? '0');
    if (issuedAtS <= last) {
      throw new PortierError(
        ErrorCode.SyncCommandRejected,
        `stale: a time-floor command issued at ${new Date(last * 1000).toISOString()} was applied already`,
      );
    }
    store.meta.set(COMMAND_IAT_KEY, String(issuedAtS));
    return { ...setTimeFloor(store, ms), issued_at: issuedAtS };
  });
}
