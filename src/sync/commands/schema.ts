import { z } from 'zod';
import { deviceIdSchema } from '../../config/schema.js';

/** bytes; a command larger than this is refused unread (a config bundle or a key set fits easily) */
export const MAX_COMMAND_BYTES = 262_144;

/** A command id: what the cloud dedupes and what the gateway remembers. */
export const commandIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces');

/** The envelope every command message has: JSON with an id; signed commands carry their JWS beside it. */
export const envelopeSchema = z.looseObject({
  id: commandIdSchema,
  jws: z.string().max(MAX_COMMAND_BYTES).optional(),
});

/** A device to provision: the config file's device entry (id, driver, name, enabled, and the driver's settings). */
export const deviceSpecSchema = z.looseObject({
  id: deviceIdSchema,
  driver: z.string().min(1).max(64),
  name: z.string().max(100).optional(),
  enabled: z.boolean().optional(),
});
export type DeviceSpec = z.output<typeof deviceSpecSchema>;

/** A public JWK as an issuer key set holds it: kid and alg pinned, no private part. */
export const publicJwkSchema = z
  .looseObject({
    kty: z.enum(['OKP', 'EC']),
    kid: z.string().min(1).max(128),
    alg: z.enum(['EdDSA', 'ES256']),
    crv: z.enum(['Ed25519', 'P-256']),
    x: z.string().min(1),
    y: z.string().min(1).optional(),
    use: z.literal('sig').optional(),
  })
  .refine((k) => !('d' in k), 'a private key part ("d") must never be sent to a gateway');
export const jwksSchema = z.object({ keys: z.array(publicJwkSchema).min(1).max(256) });
export type PublicJwks = z.output<typeof jwksSchema>;

/** One revocation, as the access service's revocation list holds it. */
export const revocationSchema = z.strictObject({
  /** a pass id (`cti`/`jti`) or a holder (`sub`): every pass of that holder */
  kind: z.enum(['pass', 'sub']),
  value: z.string().min(1).max(256),
  reason: z.string().max(200).optional(),
});
export type RevocationEntry = z.output<typeof revocationSchema>;

/** The whole revocation list as the cloud keeps it; versions only go up (a stale one is ignored). */
export const revocationListSchema = z.strictObject({
  version: z.number().int().min(0),
  passes: z.array(z.string().min(1).max(256)).max(200_000),
  subjects: z.array(z.string().min(1).max(256)).max(200_000),
});
export type RevocationList = z.output<typeof revocationListSchema>;

/** Each command's own fields (besides id and, for signed ones, the JWT claims). */
export const COMMAND_SCHEMAS = {
  provision: z.object({ devices: z.array(deviceSpecSchema).min(1).max(100) }),
  'remove-device': z.object({ device: deviceIdSchema }),
  'import-keys': z.object({ keys: jwksSchema, replace: z.boolean().default(false) }),
  revoke: z.object({ entries: z.array(revocationSchema).min(1).max(10_000) }),
  'revocation-list': z.object({ list: revocationListSchema }),
  open: z.object({ lock: deviceIdSchema, pass: z.string().min(1).max(4096) }),
  'set-config': z.object({ bundle: z.record(z.string(), z.unknown()) }),
  /** An operator sets the time floor (lower or higher), e.g. after an issuer with a wrong clock raised it. */
  'time-floor': z.object({ floor: z.iso.datetime({ offset: true }), iat: z.number().int().positive() }),
} as const;

export type CommandName = keyof typeof COMMAND_SCHEMAS;
export type CommandArgs<C extends CommandName> = z.output<(typeof COMMAND_SCHEMAS)[C]>;

export const COMMAND_NAMES = Object.keys(COMMAND_SCHEMAS) as CommandName[];

/**
 * Commands that change provisioning, keys or revocations: these must carry an operator signature (the broker's
 * ACL alone never suffices). `open` does not: the pass it carries is itself signed and verified by access.
 */
export const SIGNED_COMMANDS: ReadonlySet<CommandName> = new Set([
  'provision',
  'remove-device',
  'import-keys',
  'revoke',
  'revocation-list',
  'set-config',
  'time-floor',
]);

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_SCHEMAS, name);
}

/** s, a NumericDate up to the end of year 9999 (beyond is nonsense, not a long-lived command) */
const numericDate = z.number().int().positive().max(253_402_300_799);

/** The JWT claims a signed command's payload carries besides the command itself. */
export const signedClaimsSchema = z.looseObject({
  id: commandIdSchema,
  cmd: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  iat: numericDate,
  exp: numericDate,
  nbf: numericDate.optional(),
});
