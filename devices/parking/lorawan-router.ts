/**
 * One MQTT subscription per LoRaWAN network server, shared by every bay sensor behind it, routing each uplink to
 * its device through a Map. The MQTT link hands a message to every handler whose filter matches; with one
 * subscription per sensor, 500 sensors meant 500 filter matches per message. Here a message costs one topic split
 * and one Map lookup, and ChirpStack uplinks of devices nobody drives are dropped before their JSON is parsed.
 *
 * Routers are kept per link (a WeakMap keyed by the link object), so two gateways in one process never share one.
 */

import type { Logger } from 'pino';
import { ErrorCode, PortierError, reasonOf } from '../../src/core/errors.js';
import type { MqttLink } from '../../src/core/links.js';
import type { SharedObjects } from '../../src/core/shared.js';
import { reasonOfDecode } from '../codec-kit.js';
import { type LoraUplink, parseChirpstackUplink, parseTtsUplink } from './codecs/chirpstack.js';

export type LoraServer = 'chirpstack' | 'tts';

/** The uplink topic filters: ChirpStack v4's MQTT integration, The Things Stack v3's MQTT server. */
export const UPLINK_FILTERS: Readonly<Record<LoraServer, string>> = {
  chirpstack: 'application/+/device/+/event/up',
  tts: 'v3/+/devices/+/up',
};

/** One device's registration. */
export interface LoraRoute {
  /** DevEUI, 16 hex digits (any case). */
  devEui: string;
  /** The Things Stack device id (the topic's `<device>`), so even an unparseable uplink reaches its device. */
  deviceId?: string;
  /** ChirpStack application id or TTS `<app>@<tenant>`; '+' (default) accepts any. */
  application?: string;
  onUplink(up: LoraUplink): void;
  /** A message on this device's topic that could not be used: its reason code and details. */
  onReject(reason: string, detail: Record<string, unknown>): void;
}

interface Entry extends LoraRoute {
  devEui: string;
}

/** The router of `server` on the gateway's local link, created on first use (one per gateway, in its shared objects). */
export function loraRouter(shared: SharedObjects, link: MqttLink, server: LoraServer, log?: Logger): LoraRouter {
  return shared.get(`lora-router:${server}`, () => new LoraRouter(link, server, log));
}

export class LoraRouter {
  private readonly byEui = new Map<string, Entry>();
  private readonly byDeviceId = new Map<string, Entry>();
  private unsubscribe: (() => void) | undefined;
  /** Uplinks for devices no driver registered (another gateway's sensors, or unknown ones), since start. */
  unrouted = 0;
  /** Uplinks routed to a device, since start. */
  routed = 0;

  constructor(
    private readonly link: MqttLink,
    readonly server: LoraServer,
    private readonly log?: Logger,
  ) {}

  /** Number of registered devices. */
  get size(): number {
    return this.byEui.size;
  }

  /** Register a device; subscribes on the first. Throws ConfigInvalid when the DevEUI is already taken. */
  add(route: LoraRoute): () => void {
    const devEui = route.devEui.toLowerCase();
    if (this.byEui.has(devEui)) {
      throw new PortierError(ErrorCode.ConfigInvalid, `DevEUI ${devEui} is already driven by another device`, {
        dev_eui: devEui,
      });
    }
    if (route.deviceId !== undefined && this.byDeviceId.has(route.deviceId)) {
      throw new PortierError(ErrorCode.ConfigInvalid, `device_id ${route.deviceId} is already driven`, {
        device_id: route.deviceId,
      });
    }
    const entry: Entry = { ...route, devEui };
    this.byEui.set(devEui, entry);
    if (route.deviceId !== undefined) this.byDeviceId.set(route.deviceId, entry);
    this.unsubscribe ??= this.link.subscribe(UPLINK_FILTERS[this.server], (topic, body) => this.dispatch(topic, body));
    return () => {
      if (this.byEui.get(devEui) !== entry) return;
      this.byEui.delete(devEui);
      if (route.deviceId !== undefined) this.byDeviceId.delete(route.deviceId);
      if (this.byEui.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    };
  }

  /** Route one message (exported for tests and the benchmark; the link calls it). */
  dispatch(topic: string, body: Buffer): void {
    if (this.server === 'chirpstack') this.chirpstack(topic, body);
    else this.tts(topic, body);
  }

  /** `application/<app>/device/<dev_eui>/event/up`: the DevEUI is in the topic, so route before parsing. */
  private chirpstack(topic: string, body: Buffer): void {
    const parts = topic.split('/');
    const eui = parts[3]?.toLowerCase();
    const entry = eui === undefined ? undefined : this.byEui.get(eui);
    if (!entry || !appMatches(entry, parts[1])) {
      this.miss(topic);
      return;
    }
    let up: LoraUplink;
    try {
      up = parseChirpstackUplink(body);
    } catch (err) {
      entry.onReject(reasonOfDecode(err) ?? 'bad_envelope', { error: reasonOf(err) });
      return;
    }
    if (up.devEui !== entry.devEui) {
      entry.onReject('wrong_device', { dev_eui: up.devEui, topic });
      return;
    }
    this.routed++;
    entry.onUplink(up);
  }

  /** `v3/<app>@<tenant>/devices/<device_id>/up`: the topic names the device id, the body its DevEUI. */
  private tts(topic: string, body: Buffer): void {
    const parts = topic.split('/');
    const byId = parts[3] === undefined ? undefined : this.byDeviceId.get(parts[3]);
    let up: LoraUplink;
    try {
      up = parseTtsUplink(body);
    } catch (err) {
      if (byId) byId.onReject(reasonOfDecode(err) ?? 'bad_envelope', { error: reasonOf(err) });
      else this.miss(topic);
      return;
    }
    const entry = this.byEui.get(up.devEui);
    if (byId && byId !== entry) {
      byId.onReject('wrong_device', { dev_eui: up.devEui, topic });
      return;
    }
    if (!entry || !appMatches(entry, parts[1])) {
      this.miss(topic);
      return;
    }
    this.routed++;
    entry.onUplink(up);
  }

  private miss(topic: string): void {
    this.unrouted++;
    // Powers of two: a neighbour's busy network must not flood the log.
    if ((this.unrouted & (this.unrouted - 1)) === 0) {
      this.log?.debug({ topic, unrouted: this.unrouted, server: this.server }, 'uplink for no configured device');
    }
  }
}

function appMatches(entry: Entry, app: string | undefined): boolean {
  return entry.application === undefined || entry.application === '+' || entry.application === app;
}
