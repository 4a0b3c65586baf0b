import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessService } from '../../access/service.js';
import { ErrorCode, PortierError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { writeNewFile, writePrivateFile } from '../../store/private-files.js';
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

/** A kid is also part of the file names, so it stays a plain word. */
const KID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The file names `keys generate` writes in DIR (docs/issuer.md: the issuer's key.file, what gateways import). */
export function keyFileNames(dir: string, kid: string): { privateFile: string; publicFile: string } {
  return { privateFile: join(dir, `${kid}.private.jwk.json`), publicFile: join(dir, `${kid}.jwks.json`) };
}

/** A new Ed25519 or P-256 key pair as JWKs carrying kid, alg and use. */
export function generateIssuerKey(
  kid: string,
  alg: 'EdDSA' | 'ES256',
): { privateJwk: Record<string, unknown>; publicJwk: Record<string, unknown> } {
  const pair = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const meta = { kid, alg, use: 'sig' };
  const privateJwk = { ...pair.privateKey.export({ format: 'jwk' }), ...meta };
  const publicJwk = { ...pair.publicKey.export({ format: 'jwk' }), ...meta };
  return { privateJwk, publicJwk };
}

const generateKeys: Command = {
  path: ['keys', 'generate'],
  summary: 'Make a new issuer key pair: the private JWK (0600) and the public JWK Set for `keys import`',
  usage: '--kid ID [--alg EdDSA|ES256] --out DIR [--json]',
  options: {
    kid: { type: 'string', arg: 'ID', description: 'the key id, e.g. town-2026 (letters, digits, . _ -)' },
    alg: { type: 'string', arg: 'EdDSA|ES256', description: 'the signature algorithm', default: 'EdDSA' },
    out: { type: 'string', arg: 'DIR', description: 'where to write <kid>.private.jwk.json and <kid>.jwks.json' },
  },
  run(args, io) {
    const kid = str(args, 'kid');
    if (!kid || !KID.test(kid)) throw new UsageError('give --kid ID: 1-64 letters, digits, ".", "_" or "-"');
    const alg = str(args, 'alg') ?? 'EdDSA';
    if (alg !== 'EdDSA' && alg !== 'ES256') throw new UsageError('--alg must be EdDSA or ES256');
    const dir = str(args, 'out');
    if (!dir) throw new UsageError('give --out DIR');
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const { privateFile, publicFile } = keyFileNames(dir, kid);
    for (const f of [privateFile, publicFile]) {
      if (existsSync(f)) throw new UsageError(`${f} exists: refusing to overwrite a key (choose a new --kid)`);
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateJwk, publicJwk } = generateIssuerKey(kid, alg);
    writePrivateFile(privateFile, `${JSON.stringify(privateJwk, null, 2)}\n`);
    // the public half is handed to every gateway: readable by all, whatever the umask
    writeNewFile(publicFile, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`, 0o644);
    const res = { kid, alg, private_file: privateFile, public_file: publicFile };
    output(io, args, res, () =>
      [
        `private key (0600): ${privateFile}   the issuer's key.file; keep it secret`,
        `public JWK Set:     ${publicFile}   portier keys import it on every gateway`,
      ].join('\n'),
    );
    return 0;
  },
};

export const keysCommands: readonly Command[] = [generateKeys, importKeys, listKeys, removeKey].map(guarded);
