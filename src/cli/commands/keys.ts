import { readFileSync } from 'node:fs';
import { AccessService } from '../../access/service.js';
import { ErrorCode, PortierError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { openStore, type Store } from '../../store/store.js';
import { type CliIo, type Command, type OptionSpecs, output, type ParsedArgs, str, UsageError } from '../command.js';

/** `--state-dir`, shared by the commands that open the gateway's store. */
export const stateDirOption: OptionSpecs = {
  'state-dir': {
    type: 'string',
    arg: 'DIR',
    description: "the gateway's state directory (its database)",
    default: '$PORTIER_STATE_DIR',
  },
};

/**
 * Open the store of `--state-dir` (or PORTIER_STATE_DIR), run `fn` with an access service on it, and close it. A
 * running daemon may hold the same database: WAL lets both work, and the daemon notices keyring changes by version.
 */
export function withAccess<T>(args: ParsedArgs, io: CliIo, fn: (access: AccessService, store: Store) => T): T {
  const stateDir = str(args, 'state-dir') ?? io.env.PORTIER_STATE_DIR;
  if (!stateDir) throw new UsageError('give --state-dir DIR or set PORTIER_STATE_DIR');
  const store = openStore({
    stateDir,
    gatewayId: io.env.PORTIER_GATEWAY_ID ?? 'cli',
    log: silentLogger(),
    borrow: true,
  });
  try {
    return fn(new AccessService({ store }), store);
  } finally {
    store.close();
  }
}

/**
 * Rethrow a PortierError as a plain Error with the same one-line message. main.ts reads `err.code` as a string
 * (node:util's ERR_PARSE_ARGS_*), and a PortierError's numeric code would make it throw while reporting.
 */
export function guarded(cmd: Command): Command {
  return {
    ...cmd,
    async run(args, io) {
      try {
        return await cmd.run(args, io);
      } catch (err) {
        if (err instanceof PortierError) throw new Error(err.message, { cause: err });
        throw err;
      }
    },
  };
}

/** Read a JSON file, with the file named in the error. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PortierError(ErrorCode.AccessKeyInvalid, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PortierError(ErrorCode.AccessKeyInvalid, `${path} is not JSON`);
  }
}

/** A JWK Set, or a single JWK taken as a set of one. */
export function asJwks(doc: unknown): unknown {
  return typeof doc === 'object' && doc !== null && 'kty' in doc ? { keys: [doc] } : doc;
}

const importKeys: Command = {
  path: ['keys', 'import'],
  summary: 'Add issuer public keys (a JWK Set or one JWK) to the gateway keyring; same kid replaces',
  usage: 'FILE [--state-dir DIR] [--json]',
  options: stateDirOption,
  run(args, io) {
    const file = args.positionals[0];
    if (!file || args.positionals.length > 1) throw new UsageError('give one JWK Set file');
    const doc = asJwks(readJsonFile(file));
    const res = withAccess(args, io, (access) => access.keys.importJwks(doc));
    output(io, args, res, () =>
      [
        `imported ${res.imported.length} key(s): ${res.imported.join(', ')}`,
        ...res.skipped.map((s) => `  skipped key ${s.index}: ${s.reason}`),
      ].join('\n'),
    );
    return 0;
  },
};

const listKeys: Command = {
  path: ['keys', 'list'],
  summary: 'List the issuer keys in the gateway keyring (kid, pinned alg, key type)',
  usage: '[--state-dir DIR] [--json]',
  options: stateDirOption,
  run(args, io) {
    const keys = withAccess(args, io, (access) => access.keys.list());
    output(io, args, keys, () =>
      keys.length
        ? keys.map((k) => `${k.kid}  ${k.alg}  ${k.kty}  added ${k.addedAt}`).join('\n')
        : 'no issuer keys: import one with portier keys import FILE',
    );
    return 0;
  },
};

const removeKey: Command = {
  path: ['keys', 'remove'],
  summary: 'Remove an issuer key by kid; passes signed with it stop opening',
  usage: 'KID [--state-dir DIR] [--json]',
  options: stateDirOption,
  run(args, io) {
    const kid = args.positionals[0];
    if (!kid || args.positionals.length > 1) throw new UsageError('give one kid');
    withAccess(args, io, (access) => access.keys.remove(kid));
    output(io, args, { removed: kid }, () => `removed ${kid}`);
    return 0;
  },
};

export const keysCommands: readonly Command[] = [importKeys, listKeys, removeKey].map(guarded);
