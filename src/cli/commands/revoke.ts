import { type Command, output, str, UsageError } from '../command.js';
import { guarded, stateDirOption, withAccess } from './keys.js';

/** `portier revoke PASS_ID | --sub SUB`: put a pass or a holder on the gateway's revocation list. */
const revoke: Command = {
  path: ['revoke'],
  summary: 'Revoke a pass by id or every pass of a subject (--undo lifts it, --list shows the list)',
  usage: 'PASS_ID | --sub SUB [--reason TEXT] [--undo] [--list] [--state-dir DIR] [--json]',
  options: {
    ...stateDirOption,
    sub: { type: 'string', arg: 'SUB', description: "revoke every pass of this subject (the pass's sub)" },
    reason: { type: 'string', arg: 'TEXT', description: 'why, kept with the entry' },
    undo: { type: 'boolean', description: 'lift the revocation' },
    list: { type: 'boolean', description: 'show the revocation list' },
  },
  run(args, io) {
    if (args.values.list) {
      const { list, version } = withAccess(args, io, (a) => ({
        list: a.revocations.list(),
        version: a.revocations.version(),
      }));
      output(io, args, { version, revocations: list }, () =>
        [
          `revocation list version ${version}, ${list.length} entr${list.length === 1 ? 'y' : 'ies'}`,
          ...list.map((r) => `  ${r.kind} ${r.value}  ${r.addedAt}${r.reason ? `  (${r.reason})` : ''}`),
        ].join('\n'),
      );
      return 0;
    }
    const sub = str(args, 'sub');
    const passId = args.positionals[0];
    if ((sub === undefined) === (passId === undefined) || args.positionals.length > 1) {
      throw new UsageError('give either one PASS_ID or --sub SUB');
    }
    const kind = sub !== undefined ? 'sub' : 'pass';
    const value = (sub ?? passId)!;
    const version = withAccess(args, io, (a) =>
      args.values.undo ? a.revocations.unrevoke(kind, value) : a.revocations.revoke(kind, value, str(args, 'reason')),
    );
    const verb = args.values.undo ? 'unrevoked' : 'revoked';
    output(io, args, { [verb]: { kind, value }, version }, () => `${verb} ${kind} ${value}; list version ${version}`);
    return 0;
  },
};

export const revokeCommands: readonly Command[] = [revoke].map(guarded);
