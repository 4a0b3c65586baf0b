import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { pinId } from '../../access/credential-drafts.js';
import { matchPin, pinCode, pinSlot, SLOT_S } from '../../access/pin.js';
import { ErrorCode, PortierError } from '../../core/errors.js';
import { parsePinSecret } from '../../store/pin-store.js';
import { type CliIo, type Command, type OptionSpecs, output, type ParsedArgs, str, UsageError } from '../command.js';
import { guarded, stateDirOption, withAccess } from './keys.js';
import { parseTimeArg } from './token.js';

const lockOption: OptionSpecs = { lock: { type: 'string', arg: 'ID', description: 'the lock' } };
const secretOptions: OptionSpecs = {
  ...stateDirOption,
  ...lockOption,
  'secret-file': {
    type: 'string',
    arg: 'FILE',
    description: "the lock's PIN secret (an issuer's copy) instead of the gateway store",
  },
};

function lockOf(args: ParsedArgs): string {
  const lock = str(args, 'lock');
  if (!lock) throw new UsageError('give --lock ID');
  return lock;
}

/** The lock's secret from --secret-file (an issuer's copy) or the gateway store (--state-dir). */
function secretOf(args: ParsedArgs, io: CliIo, lock: string): Buffer {
  const file = str(args, 'secret-file');
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PortierError(ErrorCode.AccessKeyInvalid, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
    }
    return parsePinSecret(text);
  }
  const secret = withAccess(args, io, (a) => a.pins.secret(lock));
  if (!secret)
    throw new PortierError(ErrorCode.AccessKeyInvalid, `lock ${lock} has no PIN secret (portier pin secret)`);
  return secret;
}

const issue: Command = {
  path: ['pin', 'issue'],
  summary: 'Derive an offline PIN code for a lock and an hour slot (docs/pins.md)',
  usage:
    '--lock ID (--secret-file FILE | --state-dir DIR) [--start TIME] [--hours N] [--one-time] [--digits 8-10] [--json]',
  options: {
    ...secretOptions,
    start: { type: 'string', arg: 'TIME', description: 'when it starts to work (ISO, Unix s, +2h)', default: 'now' },
    hours: { type: 'string', arg: 'N', description: 'hours it works', default: '1, 24 with --one-time' },
    'one-time': { type: 'boolean', description: 'opens once, then is used up' },
    digits: { type: 'string', arg: '8-10', description: "the code's length (the lock's pin_length)", default: '8' },
  },
  run(args, io) {
    const lock = lockOf(args);
    const oneTime = args.values['one-time'] === true;
    const hours = Number(str(args, 'hours') ?? (oneTime ? '24' : '1'));
    const digits = Number(str(args, 'digits') ?? '8');
    const start = str(args, 'start');
    const startS = start === undefined ? Math.floor(Date.now() / 1000) : parseTimeArg(start, 'start');
    const slot = pinSlot(startS, hours, oneTime);
    const code = pinCode(secretOf(args, io, lock), lock, slot, digits);
    const from = new Date(slot.slotStart * 1000).toISOString();
    const until = new Date((slot.slotStart + slot.hours * SLOT_S) * 1000).toISOString();
    const res = { code, lock, valid_from: from, valid_until: until, hours, one_time: oneTime, id: pinId(lock, slot) };
    output(io, args, res, () => `${code}  (${lock}, ${from} to ${until}${oneTime ? ', one opening' : ''})`);
    return 0;
  },
};

const check: Command = {
  path: ['pin', 'check'],
  summary: 'Tell whether a PIN code is valid for a lock now (or --at); does not use it up; exit 0 valid, 1 not',
  usage: 'CODE --lock ID (--secret-file FILE | --state-dir DIR) [--at TIME] [--json]',
  options: {
    ...secretOptions,
    at: { type: 'string', arg: 'TIME', description: 'check at this time (ISO, Unix s, +2h)', default: 'now' },
  },
  run(args, io) {
    const code = args.positionals[0];
    if (!code || args.positionals.length > 1) throw new UsageError('give one CODE');
    const lock = lockOf(args);
    const at = str(args, 'at');
    const nowS = at === undefined ? Math.floor(Date.now() / 1000) : parseTimeArg(at, 'at');
    const slot = matchPin(secretOf(args, io, lock), lock, code.trim(), nowS);
    const res = slot
      ? {
          valid: true,
          lock,
          valid_from: new Date(slot.slotStart * 1000).toISOString(),
          valid_until: new Date((slot.slotStart + slot.hours * SLOT_S) * 1000).toISOString(),
          hours: slot.hours,
          one_time: slot.oneTime,
          id: pinId(lock, slot),
        }
      : { valid: false, lock };
    output(io, args, res, () =>
      slot ? `valid: ${res.valid_from} to ${res.valid_until}${slot.oneTime ? ', one opening' : ''}` : 'not valid',
    );
    return slot ? 0 : 1;
  },
};

const secret: Command = {
  path: ['pin', 'secret'],
  summary: "Create (or --rotate, or --import FILE) a lock's PIN secret in the gateway store; --out writes it 0600",
  usage: '--lock ID [--import FILE | --rotate] [--out FILE] [--state-dir DIR] [--json]',
  options: {
    ...stateDirOption,
    ...lockOption,
    import: {
      type: 'string',
      arg: 'FILE',
      description: 'use the secret in FILE (16-64 bytes, hex or base64url) instead of a new one',
    },
    rotate: { type: 'boolean', description: 'replace an existing secret with a new one (old codes stop working)' },
    out: { type: 'string', arg: 'FILE', description: 'write the secret to FILE (0600) instead of printing it' },
  },
  run(args, io) {
    const lock = lockOf(args);
    const importFile = str(args, 'import');
    const given = importFile === undefined ? undefined : parsePinSecret(readFileSync(importFile, 'utf8'));
    const { value, created } = withAccess(args, io, (a) => {
      const existing = a.pins.secret(lock);
      if (existing && !given && !args.values.rotate) return { value: existing, created: false };
      return { value: a.pins.setSecret(lock, given), created: true };
    });
    const hex = value.toString('hex');
    const out = str(args, 'out');
    if (out !== undefined) {
      writeFileSync(out, `${hex}\n`, { mode: 0o600 });
      chmodSync(out, 0o600);
    }
    const res = { lock, created, ...(out === undefined ? { secret: hex } : { written_to: out }) };
    output(io, args, res, () =>
      out === undefined ? hex : `${created ? 'new' : 'existing'} secret of ${lock} written to ${out}`,
    );
    return 0;
  },
};

export const pinCommands: readonly Command[] = [issue, check, secret].map(guarded);
