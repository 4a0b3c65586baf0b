import { setTimeFloorFromCli } from '../../store/time-floor.js';
import { type Command, output, str, UsageError } from '../command.js';
import { guarded, stateDirOption, withAccess } from './keys.js';

/**
 * `portier time floor [--set ISO | --reset]`: show the gateway's time floor, or set it as an operator (lower, after an
 * issuer with a wrong clock raised it; higher, on a gateway that has never known the time) or clear it. A running
 * daemon adopts it at its next decision or floor check (at most a minute) and records it as a `provisioning.change`
 * event; without one, the next start does.
 */
const floor: Command = {
  path: ['time', 'floor'],
  summary: 'Show the time floor, or set it (--set ISO_TIME) or clear it (--reset); changes are audited',
  usage: '[--set ISO_TIME | --reset] [--state-dir DIR] [--json]',
  options: {
    ...stateDirOption,
    set: { type: 'string', arg: 'ISO_TIME', description: 'raise (or lower) the floor to this time' },
    reset: { type: 'boolean', description: 'clear the floor' },
  },
  run(args, io) {
    const set = str(args, 'set');
    const reset = args.values.reset === true;
    if (args.positionals.length) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    if (set !== undefined && reset) throw new UsageError('give --set ISO_TIME or --reset, not both');
    const target = set === undefined ? undefined : Date.parse(set);
    if (target !== undefined && (Number.isNaN(target) || target <= 0 || !/^\d{4}-\d\d-\d\d/.test(set!))) {
      throw new UsageError(`--set wants an ISO time such as 2026-12-04T09:00Z, not "${set}"`);
    }
    const result = withAccess(args, io, (_access, store) => {
      if (target === undefined && !reset) {
        const now = store.clock.now();
        const ms = store.clock.timeFloor();
        return { floor: ms > 0 ? new Date(ms).toISOString() : null, now: new Date(now.ms).toISOString(), tq: now.tq };
      }
      return setTimeFloorFromCli(store, target ?? 0);
    });
    output(io, args, result, () =>
      'previous' in result
        ? `time floor ${result.floor ?? 'cleared'} (was ${result.previous ?? 'none'})`
        : `time floor ${result.floor ?? 'none'}; now ${result.now} (${result.tq})`,
    );
    return 0;
  },
};

export const timeCommands: readonly Command[] = [floor].map(guarded);
