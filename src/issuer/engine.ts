import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Counter, Histogram, type Registry } from 'prom-client';
import { issuePass, type SigningKey } from '../access/issue.js';
import { EARLY_GRACE_S, ONE_TIME_HOURS, pinCode, pinSlot, SLOT_S } from '../access/pin.js';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { IssuerStore } from '../store/issuer-store.js';
import { parsePinSecret } from '../store/pin-store.js';
import type { DoorState, IssuerCloud } from './cloud.js';
import type { DoorConfig, IssuerConfig } from './config.js';

export type Channel = 'web' | 'api' | 'sms';

/** What one tap (or API call) got. */
export interface IssueResult {
  door: string;
  /** the pass as the door's QR scanner reads it (PT1) */
  pass: string;
  passId: string;
  exp: number;
  /** the gateway's pass page with the pass in its fragment */
  link?: string | undefined;
  /** the keypad's one-time code and when it stops working (Unix s) */
  pin?: { code: string; until: number; hours: number; timeZone: string } | undefined;
  /** online: the gateway answered (opened, or refused with reason); offline: no answer, the offline ways apply */
  delivered: 'online' | 'offline';
  opened: boolean;
  reason?: string | undefined;
}

/** A request refused before any pass was made. */
export class IssueRefused extends Error {
  constructor(
    readonly code: 'unknown_door' | 'rate_limited' | 'no_pin',
    readonly status: number,
    readonly retryAfterS?: number,
  ) {
    super(code);
  }
}

/**
 * The issuer's core: check the limits, sign a single-use pass for the door, try to open online through the
 * gateway, and hand out the offline ways in when no answer came. Every pass is audited (a store row and a log line
 * without the pass or PIN) and counted.
 */
export class IssuerEngine {
  private readonly doors = new Map<string, DoorConfig>();
  private readonly secrets = new Map<string, Buffer>();
  private readonly issued: Counter<'door' | 'channel' | 'delivered'>;
  private readonly refused: Counter<'reason'>;
  private readonly ackSeconds: Histogram;

  constructor(
    private readonly cfg: IssuerConfig,
    private readonly key: SigningKey,
    private readonly store: IssuerStore,
    private readonly cloud: IssuerCloud | undefined,
    private readonly log: Logger,
    registry: Registry,
  ) {
    for (const d of cfg.doors) {
      this.doors.set(d.id, d);
      if (d.pin_secret_file) this.secrets.set(d.id, readSecret(d.pin_secret_file));
    }
    this.issued = new Counter({
      name: 'portier_issuer_passes_total',
      help: 'passes issued, by door, channel and how they were delivered',
      labelNames: ['door', 'channel', 'delivered'],
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'portier_issuer_refused_total',
      help: 'requests refused before a pass was made, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.ackSeconds = new Histogram({
      name: 'portier_issuer_open_ack_seconds',
      help: "time from publishing an open to the gateway's acknowledgement",
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
      registers: [registry],
    });
  }

  /** Count a request refused at the edge (a bad webhook signature, a malformed form). */
  countRefusal(reason: string): void {
    this.refused.inc({ reason });
  }

  door(id: string): DoorConfig | undefined {
    return this.doors.get(id);
  }

  get allDoors(): DoorConfig[] {
    return [...this.doors.values()];
  }

  state(door: DoorConfig): DoorState {
    return this.cloud?.state(door.gateway, door.id) ?? 'unknown';
  }

  /** Count a request against the door's limits and the client's; throws IssueRefused(rate_limited) when full. */
  private admit(door: DoorConfig, client: string, nowS: number, extra: Array<{ key: string; max: number }> = []): void {
    const full = this.store.take(
      [
        { key: `d:${door.id}`, max: door.policy.per_door_per_hour },
        { key: `c:${door.id}:${client}`, max: door.policy.per_client_per_hour },
        ...extra,
      ],
      nowS,
    );
    if (full !== undefined) {
      this.refused.inc({ reason: 'rate_limited' });
      this.log.info({ door: door.id, limit: full.split(':')[0] }, 'issuer: rate limit reached');
      throw new IssueRefused('rate_limited', 429, SLOT_S - (nowS % SLOT_S));
    }
  }

  /** A tap on the door page or a call of the JSON twin, from a client address. */
  async tap(doorId: string, address: string, channel: 'web' | 'api'): Promise<IssueResult> {
    const door = this.need(doorId);
    const nowS = Math.floor(Date.now() / 1000);
    const client = this.store.pseudonym('ip', address);
    this.admit(door, client, nowS);
    const made = await this.sign(door, nowS);
    let result: IssueResult = { ...made, delivered: 'offline', opened: false };
    const started = performance.now();
    const ack = this.cloud ? await this.cloud.open(door.gateway, door.id, made.pass) : undefined;
    if (ack) {
      this.ackSeconds.observe((performance.now() - started) / 1000);
      const reason = ack.status === 'ok' ? undefined : ack.error === 'denied' ? ack.detail : ack.error;
      result = { ...result, delivered: 'online', opened: ack.status === 'ok', reason };
    } else {
      result.reason = !this.cloud ? 'no_broker' : this.cloud.connected ? 'no_answer' : 'broker_unavailable';
      result.pin = this.pin(door, nowS);
    }
    this.audit(door, channel, client, result, nowS);
    return result;
  }

  /** An SMS asking for a door's PIN, from a phone number (kept only as a keyed hash). */
  smsPin(door: DoorConfig, from: string, perNumber: number): IssueResult & { pin: NonNullable<IssueResult['pin']> } {
    const nowS = Math.floor(Date.now() / 1000);
    const client = this.store.pseudonym('tel', from);
    if (!this.secrets.has(door.id)) throw new IssueRefused('no_pin', 409);
    this.admit(door, client, nowS, [{ key: `n:${client}`, max: perNumber }]);
    const pin = this.pin(door, nowS);
    if (!pin) {
      this.refused.inc({ reason: 'no_pin' });
      throw new IssueRefused('no_pin', 503);
    }
    const id = randomBytes(16).toString('hex');
    const result = {
      door: door.id,
      pass: '',
      passId: id,
      exp: pin.until,
      delivered: 'offline' as const,
      opened: false,
      pin,
    };
    this.audit(door, 'sms', client, result, nowS);
    return result;
  }

  private need(doorId: string): DoorConfig {
    const door = this.doors.get(doorId);
    if (!door) {
      this.refused.inc({ reason: 'unknown_door' });
      throw new IssueRefused('unknown_door', 404);
    }
    return door;
  }

  private async sign(
    door: DoorConfig,
    nowS: number,
  ): Promise<Pick<IssueResult, 'door' | 'pass' | 'passId' | 'exp' | 'link'>> {
    const exp = nowS + door.policy.pass_lifetime_s;
    const { token, id } = await issuePass(
      this.key,
      {
        aud: door.id,
        iss: this.cfg.key.iss,
        // A random pseudonym per pass: the gateway's log ties the opening to no person.
        sub: `anon-${randomBytes(16).toString('base64url')}`,
        iat: nowS,
        nbf: nowS - 60,
        exp,
        uses: door.policy.uses,
      },
      'pt1',
    );
    const link = door.pass_page_url
      ? `${door.pass_page_url}#${token.replaceAll('%', '%25').replaceAll(' ', '%20')}`
      : undefined;
    return { door: door.id, pass: token, passId: id, exp, link };
  }

  /**
   * A one-time keypad code (docs/pins.md) for this hour's slot, or the next one within its early grace. Each of
   * the one-time durations is a different code, so one slot gives up to six people a code of their own.
   */
  private pin(door: DoorConfig, nowS: number): IssueResult['pin'] {
    const secret = this.secrets.get(door.id);
    if (!door.features.keypad || !secret) return undefined;
    const current = Math.floor(nowS / SLOT_S) * SLOT_S;
    const start = current + SLOT_S - nowS <= EARLY_GRACE_S ? current + SLOT_S : current;
    const hours = this.store.claimPinVariant(door.id, start, ONE_TIME_HOURS);
    if (hours === undefined) return undefined;
    const slot = pinSlot(start, hours, true);
    return {
      code: pinCode(secret, door.id, slot, door.pin_length),
      until: slot.slotStart + hours * SLOT_S,
      hours,
      timeZone: this.cfg.timezone,
    };
  }

  private audit(door: DoorConfig, channel: Channel, client: string, r: IssueResult, nowS: number): void {
    const delivered = r.opened ? 'online' : r.delivered === 'online' ? 'refused' : 'offline';
    try {
      this.store.record({
        id: r.passId,
        door: door.id,
        channel,
        iat: nowS,
        exp: r.exp,
        uses: door.policy.uses,
        delivered,
        reason: r.reason,
        client,
        pinHours: r.pin?.hours,
      });
    } catch (err) {
      this.log.error({ err: reasonOf(err), door: door.id }, 'issuer: audit row not written');
    }
    this.issued.inc({ door: door.id, channel, delivered });
    this.log.info(
      { door: door.id, channel, pass_id: r.passId, delivered, reason: r.reason, with_pin: r.pin !== undefined },
      'issuer: pass issued',
    );
  }
}

function readSecret(path: string): Buffer {
  try {
    return parsePinSecret(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PortierError(ErrorCode.ConfigInvalid, `PIN secret ${path}: ${reasonOf(err)}`);
  }
}
