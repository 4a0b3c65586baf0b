import type { PortierEvent } from '../core/events.js';
import type { Store } from '../store/store.js';

/**
 * Record an opening that no credential asked for (a test pulse, an emergency release, a Home Assistant UNLOCK)
 * as a durable `access.decision` in the critical lane, before the relay moves: every opening is on record, with
 * who asked (`api`, `mqtt`) and how (`test`, `emergency_release`, `home_assistant`).
 */
export function recordOperatorOpen(store: Store, lock: string, via: string, actor: string): PortierEvent {
  return store.events.recordNow({
    dev: lock,
    type: 'access.decision',
    data: { credential: 'operator', granted: true, reason: 'ok', lock, actor, via },
  });
}
