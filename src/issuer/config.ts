import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { DEFAULT_DIGITS, MAX_DIGITS, MIN_DIGITS } from '../access/pin.js';
import { formatIssues } from '../config/format-issues.js';
import { interpolateEnv } from '../config/interpolate.js';
import { ConfigError } from '../config/load.js';
import { deviceIdSchema, splitUrls } from '../config/schema.js';
import { ErrorCode, PortierError } from '../core/errors.js';

const MQTT_URL = /^(mqtts?|wss?|tcp|ssl):\/\/[^\s,]+$/;
const httpsUrl = z.string().regex(/^https:\/\/[^\s#]+$/, 'expected an https:// URL');
const httpUrl = z.string().regex(/^https?:\/\/[^\s#]+$/, 'expected an http:// or https:// URL');
const port = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d{1,5}$/, 'expected a port number')
      .transform(Number),
  ])
  .pipe(z.number().int().min(0, 'expected a port 0-65535').max(65_535, 'expected a port 0-65535'));

/** The town's cloud broker, as the gateways' `cloud` section names it (the issuer only needs the connection). */
const brokerSchema = z
  .object({
    /** one URL, or several separated by commas (the nodes of a clustered broker) */
    url: z
      .string()
      .refine(
        (s) => splitUrls(s).length > 0 && splitUrls(s).every((u) => MQTT_URL.test(u)),
        'expected an MQTT URL such as mqtts://broker:8883, or several separated by commas',
      ),
    /** topic prefix, the gateways' cloud.prefix */
    prefix: z
      .string()
      .regex(/^[^#+\s]+$/, 'expected a topic prefix without wildcards')
      .default('portier'),
    client_id: z.string().min(1).max(128).default('portier-issuer'),
    username: z.string().optional(),
    password_file: z.string().optional(),
    /** CA bundle that must sign the broker's certificate (mqtts://) */
    ca_file: z.string().optional(),
    /**
     * MQTT version: 5 (default) lets an `open` expire in the broker after 10 s, so a gateway away now never opens
     * later; 4 (3.1.1) only for a broker without MQTT 5 (the demo's embedded one)
     */
    protocol_version: z.union([z.literal(4), z.literal(5)]).default(5),
    /** ms to wait for the gateway's acknowledgement of an `open`, 500-3000 (the page must answer within 4 s) */
    ack_timeout_ms: z.number().int().min(500).max(3000).default(3000),
  })
  .strict()
  .transform(({ url, ...rest }) => ({ ...rest, urls: splitUrls(url) }));

const policySchema = z
  .object({
    /** s a pass lives, 60-3600 */
    pass_lifetime_s: z.number().int().min(60).max(3600).default(600),
    /** openings one pass allows (single use by default), 1-10 */
    uses: z.number().int().min(1).max(10).default(1),
    /** passes one client (address or phone) may get for this door per hour, 1-1000 */
    per_client_per_hour: z.number().int().min(1).max(1000).default(6),
    /** passes for this door per hour, from everyone, 1-100000 */
    per_door_per_hour: z.number().int().min(1).max(100_000).default(120),
  })
  .strict();

const doorSchema = z
  .object({
    /** the lock's device id on its gateway (the pass's aud) */
    id: deviceIdSchema,
    /** the gateway serving the door (its gateway.id, in the broker's topics) */
    gateway: deviceIdSchema,
    name: z.object({ de: z.string().min(1).max(100), en: z.string().min(1).max(100) }).strict(),
    features: z
      .object({
        scanner: z.boolean().default(false),
        keypad: z.boolean().default(false),
        euro_key: z.boolean().default(false),
      })
      .strict()
      .default({ scanner: false, keypad: false, euro_key: false }),
    /** the lock's pin_length on the gateway, 8-10 */
    pin_length: z.number().int().min(MIN_DIGITS).max(MAX_DIGITS).default(DEFAULT_DIGITS),
    /** the lock's PIN secret (hex or base64url, as `portier pin secret --out` writes it); needed with a keypad */
    pin_secret_file: z.string().optional(),
    /** the gateway's pass page of this door, e.g. http://10.0.0.5:8088/door/toilet-1 (the link adds #<pass>) */
    pass_page_url: httpUrl.optional(),
    /** the SMS keyword, e.g. WC1 (letters and digits, matched without case or spaces) */
    sms_keyword: z
      .string()
      .regex(/^[A-Za-z0-9]{1,16}$/, 'expected 1-16 letters and digits')
      .optional(),
    policy: policySchema.default(policySchema.parse({})),
  })
  .strict()
  .refine((d) => !d.features.keypad || d.pin_secret_file !== undefined, {
    message: 'a door with a keypad needs pin_secret_file (the PIN secret shared with its gateway)',
    path: ['pin_secret_file'],
  });

export const issuerConfigSchema = z
  .object({
    version: z.literal(1),
    listen: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8090),
        /** where people reach the service (the sticker's QR points here), e.g. https://wc.example-town.de */
        public_url: httpUrl,
        /** trust X-Forwarded-For from a reverse proxy in front (for the per-client limit) */
        trust_proxy: z.boolean().default(false),
      })
      .strict(),
    /** the time zone in which a PIN's end is shown on the page and in the SMS */
    timezone: z.string().min(1).default('Europe/Berlin'),
    /** the issuer's own state (SQLite, the hashing secret); relative to the config file */
    state_dir: z.string().min(1),
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    key: z
      .object({
        /** the private JWK written by `portier keys generate` (kid and alg EdDSA or ES256) */
        file: z.string().min(1),
        /** the passes' iss, an https URL naming the town's issuer */
        iss: httpsUrl,
      })
      .strict(),
    broker: brokerSchema.optional(),
    sms: z
      .object({
        /** the number people text, shown on the page and the sticker */
        number: z.string().regex(/^\+?[0-9 ]{3,20}$/, 'expected a phone number such as +49 170 1234567'),
        /** the webhook's answer: text/plain, or the provider's XML (<Response><Message>) */
        reply: z.enum(['text', 'xml']).default('text'),
        /**
         * the provider's auth token (a file, 0600): requests must then carry a valid X-Twilio-Signature over
         * `<public_url>/sms/inbound` and the form, or are refused 403
         */
        twilio_auth_token_file: z.string().min(1).optional(),
        /** texts one number may send per hour, 1-100 */
        per_number_per_hour: z.number().int().min(1).max(100).default(5),
      })
      .strict()
      .optional(),
    doors: z.array(doorSchema).min(1, 'list at least one door'),
  })
  .strict();

export type IssuerConfig = z.output<typeof issuerConfigSchema>;
export type DoorConfig = IssuerConfig['doors'][number];
export type BrokerConfig = NonNullable<IssuerConfig['broker']>;

/** The JSON Schema of the issuer's config file (config/issuer.schema.json). */
export function issuerJsonSchema(): Record<string, unknown> {
  const root = z.toJSONSchema(issuerConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { $id: 'https://portier.invalid/issuer.schema.json', ...root };
}

/** Parse and validate an issuer config; throws ConfigError listing every problem by path. */
export function parseIssuerConfig(text: string, env: NodeJS.ProcessEnv = {}, source = 'issuer config'): IssuerConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => `YAML ${e.linePos?.[0] ? `line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}`),
      source,
    );
  }
  const raw: unknown = doc.toJS();
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(['(root): expected a mapping with version, listen, state_dir, key and doors'], source);
  }
  const problems: string[] = [];
  const interpolated = interpolateEnv(raw, env, '', problems);
  if (problems.length) throw new ConfigError(problems, source);
  const result = issuerConfigSchema.safeParse(interpolated);
  const all = [...(result.success ? [] : formatIssues(result.error.issues)), ...duplicates(interpolated)];
  if (!result.success || all.length) throw new ConfigError(all, source);
  return result.data;
}

/** Door ids and SMS keywords given twice (checked on the raw file, so they are listed beside every other problem). */
function duplicates(raw: unknown): string[] {
  const doors = (raw as { doors?: unknown }).doors;
  if (!Array.isArray(doors)) return [];
  const out: string[] = [];
  const ids = new Set<unknown>();
  const words = new Set<string>();
  doors.forEach((d: { id?: unknown; sms_keyword?: unknown } | null, i) => {
    if (typeof d?.id === 'string' && ids.has(d.id)) out.push(`doors[${i}].id: duplicate door "${d.id}"`);
    ids.add(d?.id);
    if (typeof d?.sms_keyword !== 'string') return;
    const w = d.sms_keyword.toUpperCase();
    if (words.has(w)) out.push(`doors[${i}].sms_keyword: duplicate keyword "${w}"`);
    words.add(w);
  });
  return out;
}

/** Read the config file; relative paths in it are relative to the file. */
export function loadIssuerConfig(path: string, env: NodeJS.ProcessEnv = process.env): IssuerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PortierError(ErrorCode.ConfigNotFound, `cannot read issuer config ${path}: ${(err as Error).message}`);
  }
  const cfg = parseIssuerConfig(text, env, path);
  const base = dirname(path);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  cfg.state_dir = abs(cfg.state_dir);
  cfg.key.file = abs(cfg.key.file);
  if (cfg.broker?.password_file) cfg.broker.password_file = abs(cfg.broker.password_file);
  if (cfg.broker?.ca_file) cfg.broker.ca_file = abs(cfg.broker.ca_file);
  if (cfg.sms?.twilio_auth_token_file) cfg.sms.twilio_auth_token_file = abs(cfg.sms.twilio_auth_token_file);
  for (const d of cfg.doors) if (d.pin_secret_file) d.pin_secret_file = abs(d.pin_secret_file);
  return cfg;
}
