import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { ErrorCode, PortierError, reasonOf } from '../../src/core/errors.js';
import type { MqttLink } from '../../src/core/links.js';
import { lockAccessSettings } from './access-settings.js';
import { lockCommandHandler, lockCommands, strikeSettings } from './lock-settings.js';
import { reportLockState, Strike, type StrikeCause } from './strike.js';
import {
  parseLwt,
  parsePowerJson,
  parsePowerText,
  powerName,
  TASMOTA_MAX_PAYLOAD,
  type TasmotaPrefix,
  tasmotaTopic,
} from './tasmota-payloads.js';

export const tasmotaRelayConfig = z
  .object({
    /** The device's Tasmota %topic% (Configuration → MQTT → Topic), e.g. tasmota_4F2A1C. */
    topic: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a Tasmota topic of letters, digits, _ . -'),
    /** Tasmota's FullTopic; change only if the device's was changed. */
    full_topic: z
      .string()
      .regex(/^[^#+\s]*%prefix%[^#+\s]*\/$/, 'expected a FullTopic with %prefix% and %topic%, ending in /')
      .refine((t) => t.includes('%topic%'), 'expected a FullTopic with %topic%')
      .default('%prefix%/%topic%/'),
    /** Relay of a multi-relay device, 1-8; 0 (default) for a single relay (POWER). */
    relay: z.number().int().min(0).max(8).default(0),
    ...strikeSettings,
    ...lockAccessSettings,
  })
  .strict();

/**
 * A door strike on a Tasmota relay over the local MQTT broker: `cmnd/<topic>/POWER` ON/OFF, its state from
 * `stat/<topic>/POWER`, `stat/<topic>/RESULT` and `tele/<topic>/STATE`, its health from the retained LWT
 * (`tele/<topic>/LWT` Online/Offline) and from the broker link. A command while the device or the broker is offline
 * fails at once: a door must never open minutes late from a queued command.
 */
export const tasmotaRelayLock = defineDriver({
  id: 'tasmota-relay-lock',
  kind: 'lock',
  transport: 'mqtt',
  description: 'Door strike on a Tasmota relay over MQTT (cmnd/stat/tele topics, LWT as device health)',
  config: tasmotaRelayConfig,
  events: ['lock.state', 'alarm'],
  commands: lockCommands,
  create(ctx) {
    const cfg = ctx.config;
    const power = powerName(cfg.relay);
    const t = (prefix: TasmotaPrefix, name: string) => tasmotaTopic(cfg.full_topic, prefix, cfg.topic, name);
    const offs: Array<() => void> = [];
    let link: MqttLink | undefined;
    /** From the LWT: true Online, false Offline, undefined not heard yet. */
    let online: boolean | undefined;
    /** A command under way: a report of that state is its confirmation, not the device acting on its own. */
    let commanded: { on: boolean; cause: StrikeCause } | undefined;
    const strike = new Strike({
      mode: cfg.mode,
      openTimeMs: cfg.open_time_ms,
      drive: async (on, cause) => {
        if (link?.state !== 'up') {
          throw new PortierError(ErrorCode.DeviceCommandFailed, `${ctx.id}: local MQTT broker unreachable`);
        }
        if (online === false) throw new PortierError(ErrorCode.DeviceCommandFailed, `${ctx.id}: Tasmota is offline`);
        // The device may confirm before the broker acknowledges our command: that confirmation is this move.
        commanded = { on, cause };
        try {
          await link.publish(t('cmnd', power), on ? 'ON' : 'OFF', { qos: 1 });
        } finally {
          if (commanded?.cause === cause && commanded.on === on) commanded = undefined;
        }
      },
      changed: reportLockState(ctx),
      log: ctx.log,
    });

    const reportPower = (on: boolean): void => {
      // Any state message proves the device is there, even before its LWT was seen.
      if (online === undefined) ctx.health(true);
      strike.reported(strike.lockedFor(on), commanded?.on === on ? commanded.cause : 'device');
    };

    const guard = (payload: Buffer, fn: (text: string) => void): void => {
      if (payload.length > TASMOTA_MAX_PAYLOAD) {
        ctx.reject('payload_too_large', { bytes: payload.length });
        return;
      }
      fn(payload.toString('utf8'));
    };

    const onPowerText = (_topic: string, payload: Buffer) =>
      guard(payload, (text) => {
        const on = parsePowerText(text);
        if (on === undefined) ctx.reject('bad_payload', { topic: 'POWER' });
        else reportPower(on);
      });

    const onPowerJson = (topic: string, payload: Buffer) =>
      guard(payload, (text) => {
        const r = parsePowerJson(text, power);
        if (!r.ok) ctx.reject(r.reason, { topic: topic.endsWith('STATE') ? 'STATE' : 'RESULT' });
        else if (r.on !== undefined) reportPower(r.on);
      });

    const onLwt = (_topic: string, payload: Buffer) =>
      guard(payload, (text) => {
        const up = parseLwt(text);
        if (up === undefined) {
          ctx.reject('bad_payload', { topic: 'LWT' });
          return;
        }
        online = up;
        ctx.health(up, up ? undefined : 'Tasmota offline (LWT)');
        if (up) restore();
      });

    /** Put the relay where the strike should be (a rebooted device, a restarted gateway), and ask for its state. */
    const restore = (): void => {
      strike.refresh().catch((err: unknown) => ctx.log.warn({ err: reasonOf(err) }, 'relay state not restored'));
    };

    return {
      start() {
        link = ctx.mqtt();
        offs.push(
          link.subscribe(t('stat', power), onPowerText, { qos: 1 }),
          link.subscribe(t('stat', 'RESULT'), onPowerJson, { qos: 1 }),
          link.subscribe(t('tele', 'STATE'), onPowerJson),
          link.subscribe(t('tele', 'LWT'), onLwt, { qos: 1 }),
          link.onState((s) => {
            if (s.state === 'up') {
              if (online !== false) restore();
            } else if (s.state === 'down') {
              online = undefined;
              ctx.health(false, 'local MQTT broker unreachable');
            }
          }),
        );
        ctx.emit('lock.state', { locked: true, cause: 'start' });
        if (link.state === 'up') restore();
      },
      async stop() {
        for (const off of offs.splice(0)) off();
        strike.dispose();
        if (link?.state === 'up' && online !== false) {
          await strike.lock('stop').catch((err: unknown) => ctx.log.warn({ err: reasonOf(err) }, 'not relocked'));
        }
      },
      command: lockCommandHandler(strike),
    };
  },
});
