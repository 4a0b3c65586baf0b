import { importJWK } from 'jose';
import type { Logger } from 'pino';
import { formatIssues } from '../../config/format-issues.js';
import type { Clock } from '../../core/clock.js';
import { isPortierError, reasonOf } from '../../core/errors.js';
import { CommandJournal } from '../../store/command-journal.js';
import type { EventLog } from '../../store/event-log.js';
import type { Store } from '../../store/store.js';
import type { CloudTopics } from '../topics.js';
import type { CommandHandlers, CommandResult } from './handlers.js';
import {
  COMMAND_SCHEMAS,
  type CommandArgs,
  type CommandName,
  envelopeSchema,
  isCommandName,
  MAX_COMMAND_BYTES,
  SIGNED_COMMANDS,
} from './schema.js';
import { CommandRefused, verifySignedCommand } from './verify.js';

export interface DownlinkOptions {
  db: Store['db'];
  events: EventLog;
  clock: Clock;
  gatewayId: string;
  topics: CloudTopics;
  /** The effects; without them every command is refused with `not_supported`. */
  handlers: CommandHandlers | undefined;
  operatorKeysFile: string | undefined;
  /** s, the longest lifetime (exp - iat) of a signed command */
  maxLifetimeS: number;
  log: Logger;
  /** Publish one acknowledgement on `up/ack` (QoS 1); the journal keeps it for a redelivered command. */
  publishAck(payload: string): void;
  /** Each outcome: ok, error, refused (signature or shape), duplicate. */
  onOutcome?(command: string, status: 'ok' | 'error' | 'refused' | 'duplicate'): void;
}

/** The acknowledgement sent on `up/ack`. */
export interface CommandAck {
  id: string | null;
  status: 'ok' | 'error';
  /** short stable reason code */
  error?: string;
  detail?: string;
  data?: Record<string, unknown>;
}

/** Refusals that concern who sent the command: audited as an alarm (someone may be trying). */
const SIGNATURE_REASONS = new Set([
  'unsigned',
  'bad_signature',
  'unknown_key',
  'alg_not_allowed',
  'wrong_audience',
  'expired',
  'not_yet_valid',
  'mismatch',
  'malformed',
  'lifetime_too_long',
  'no_operator_keys',
]);

/**
 * Downlink commands on `<prefix>/<gw>/down/<command>`: each a JSON object with an `id`; those that change
 * provisioning, keys or revocations carry `jws`, a compact JWS by an operator key whose payload is the command
 * (its fields are taken from the signed payload only, never from the unsigned envelope). Every command is answered
 * on `up/ack` with `{id, status, error?, detail?, data?}`, remembered by id so a repeat is answered, not re-applied,
 * and every refusal or change of provisioning is audited as a critical event.
 */
export class Downlink {
  private readonly journal: CommandJournal;
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly opts: DownlinkOptions) {
    this.journal = new CommandJournal(opts.db);
  }

  /** Commands being applied now. */
  get busy(): number {
    return this.running.size;
  }

  /** Wait for the commands being applied (shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /** Forget command ids older than `beforeMs` (longer ago than any signed command may live). */
  prune(beforeMs: number): number {
    return this.journal.prune(beforeMs);
  }

  /**
   * One message from the broker. The synchronous part (parse the envelope, journal the id) runs before mqtt.js
   * sends the PUBACK, so a crash after the PUBACK still knows the command arrived.
   */
  receive(topic: string, payload: Buffer): void {
    const name = topic.startsWith(this.opts.topics.downPrefix) ? topic.slice(this.opts.topics.downPrefix.length) : '';
    if (payload.length > MAX_COMMAND_BYTES) {
      this.answer(name, { id: null, status: 'error', error: 'too_large', detail: `${payload.length} bytes` });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      raw = undefined;
    }
    const env = envelopeSchema.safeParse(raw);
    if (!env.success) {
      const detail = raw === undefined ? 'not JSON' : formatIssues(env.error.issues).join('; ');
      this.answer(name, { id: null, status: 'error', error: 'malformed', detail });
      return;
    }
    const id = env.data.id;
    const seen = this.journal.get(id);
    if (seen) {
      if (seen.status !== 'pending' && seen.ack) {
        this.opts.onOutcome?.(name, 'duplicate');
        this.opts.publishAck(seen.ack);
        return;
      }
      if (this.running.has(id)) return;
      if (seen.command === 'open') {
        // Interrupted by a crash: whether the door opened is unknown, and opening again is not ours to decide.
        this.finish(name, { id, status: 'error', error: 'interrupted', detail: 'gateway restarted while applying' });
        return;
      }
      // Provisioning, keys, revocations and config are idempotent: apply again.
    } else {
      this.journal.begin(id, name, this.opts.clock.now().ms);
    }
    const work = this.execute(name, env.data).finally(() => this.running.delete(id));
    this.running.set(id, work);
  }

  private async execute(name: string, env: { id: string; jws?: string | undefined }): Promise<void> {
    const { id } = env;
    let kid: string | undefined;
    try {
      if (!isCommandName(name)) throw new CommandRefused('unknown_command', `no command "${name}"`);
      let fields: Record<string, unknown> = env;
      if (SIGNED_COMMANDS.has(name)) {
        if (!env.jws) throw new CommandRefused('unsigned', `"${name}" must be signed by an operator key`);
        const verified = await verifySignedCommand(env.jws, {
          keysFile: this.opts.operatorKeysFile,
          gatewayId: this.opts.gatewayId,
          command: name,
          id,
          clock: this.opts.clock,
          maxLifetimeS: this.opts.maxLifetimeS,
        });
        fields = verified.payload;
        kid = verified.kid;
      }
      const parsed = COMMAND_SCHEMAS[name].safeParse(fields);
      if (!parsed.success) throw new CommandRefused('invalid', formatIssues(parsed.error.issues).join('; '));
      const data = await this.apply(name, parsed.data as CommandArgs<typeof name>);
      const ack: CommandAck = { id, status: 'ok' };
      if (data) ack.data = data;
      this.finish(name, ack);
      if (SIGNED_COMMANDS.has(name)) this.audit(name, id, kid, 'applied', summarize(name, fields));
    } catch (err) {
      const refused = err instanceof CommandRefused;
      const reason = refused ? err.reason : isPortierError(err) ? `failed_${err.area}` : 'failed';
      const detail = reasonOf(err).slice(0, 2000);
      this.finish(name, { id, status: 'error', error: reason, detail }, refused ? 'refused' : 'error');
      if (refused && SIGNATURE_REASONS.has(reason)) {
        this.alarm(name, id, reason, detail);
      } else if (isCommandName(name) && SIGNED_COMMANDS.has(name)) {
        this.audit(name, id, kid, refused ? 'refused' : 'failed', { reason, detail });
      }
    }
  }

  private async apply(name: CommandName, args: CommandArgs<CommandName>): Promise<CommandResult> {
    const h = this.opts.handlers;
    if (!h) throw new CommandRefused('not_supported', 'this gateway takes no cloud commands');
    switch (name) {
      case 'provision': {
        const { devices } = args as CommandArgs<'provision'>;
        refuseProblems(await h.checkDevices(devices));
        return h.provision(devices);
      }
      case 'remove-device':
        return h.removeDevice((args as CommandArgs<'remove-device'>).device);
      case 'import-keys': {
        const { keys, replace } = args as CommandArgs<'import-keys'>;
        const problems: string[] = [];
        for (const [i, k] of keys.keys.entries()) {
          await importJWK(k, k.alg).catch((e: unknown) => problems.push(`keys[${i}] (${k.kid}): ${reasonOf(e)}`));
        }
        refuseProblems(problems);
        return h.importKeys(keys, { replace });
      }
      case 'revoke':
        return h.revoke((args as CommandArgs<'revoke'>).entries);
      case 'revocation-list':
        return h.replaceRevocations((args as CommandArgs<'revocation-list'>).list);
      case 'open': {
        const { lock, pass } = args as CommandArgs<'open'>;
        const decision = await h.openWithPass(lock, pass);
        if (!decision.granted) throw new CommandRefused('denied', decision.reason);
        return { granted: true, reason: decision.reason };
      }
      case 'set-config': {
        const { bundle } = args as CommandArgs<'set-config'>;
        refuseProblems(await h.checkConfig(bundle));
        return h.setConfig(bundle);
      }
      default: {
        const never: never = name;
        throw new CommandRefused('unknown_command', String(never));
      }
    }
  }

  private finish(name: string, ack: CommandAck, outcome?: 'refused' | 'error'): void {
    const text = JSON.stringify(ack);
    if (ack.id !== null) this.journal.finish(ack.id, ack.status, text);
    this.opts.onOutcome?.(name, outcome ?? ack.status);
    this.opts.publishAck(text);
    if (ack.status === 'error') {
      this.opts.log.warn({ command: name, id: ack.id, reason: ack.error, detail: ack.detail }, 'cloud command refused');
    } else {
      this.opts.log.info({ command: name, id: ack.id }, 'cloud command applied');
    }
  }

  /** An answer for a message without a usable id: not journaled (nothing to dedupe by), still counted and logged. */
  private answer(name: string, ack: CommandAck): void {
    this.finish(name, ack, 'refused');
  }

  private alarm(command: string, id: string, reason: string, detail: string): void {
    this.opts.events.recordNow({
      dev: this.opts.gatewayId,
      type: 'alarm',
      data: { alarm: 'command_refused', source: 'cloud', command, id, reason, detail },
    });
  }

  private audit(
    command: string,
    id: string,
    kid: string | undefined,
    status: 'applied' | 'refused' | 'failed',
    extra: Record<string, unknown>,
  ): void {
    this.opts.events.recordNow({
      dev: this.opts.gatewayId,
      type: 'provisioning.change',
      data: { source: 'cloud', command, id, ...(kid ? { operator_kid: kid } : {}), status, ...extra },
    });
  }
}

function refuseProblems(problems: string[]): void {
  if (problems.length) throw new CommandRefused('invalid', problems.join('; '));
}

/** What an audit record says of a change (never a pass, a key's private part or a secret). */
function summarize(name: string, fields: Record<string, unknown>): Record<string, unknown> {
  const arr = (v: unknown) => (Array.isArray(v) ? v : []);
  switch (name) {
    case 'provision':
      return { devices: arr(fields.devices).map((d) => (d as { id?: unknown }).id) };
    case 'remove-device':
      return { device: fields.device };
    case 'import-keys':
      return {
        kids: arr((fields.keys as { keys?: unknown })?.keys).map((k) => (k as { kid?: unknown }).kid),
        replace: fields.replace === true,
      };
    case 'revoke':
      return { entries: arr(fields.entries).length };
    case 'revocation-list': {
      const list = (fields.list ?? {}) as { version?: unknown; passes?: unknown; subjects?: unknown };
      return { version: list.version, passes: arr(list.passes).length, subjects: arr(list.subjects).length };
    }
    default:
      return {};
  }
}
