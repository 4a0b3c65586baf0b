import type { BackoffSettings } from '../core/links.js';

/** The settings of an MQTT link (src/transports/mqtt.ts). */
export type QoS = 0 | 1 | 2;

/** A message the link publishes by itself: the last will, or the "online" state on every connect. */
export interface MqttStateMessage {
  topic: string;
  payload: string | Buffer;
  retain?: boolean;
  /** default 1 */
  qos?: QoS;
}

export interface MqttLinkOptions {
  /** mqtt://, mqtts://, ws:// or wss:// */
  url: string;
  /** Fixed client id (so the broker can tie the will to us); random per connection when absent. */
  clientId?: string;
  /** Published by the broker when our connection dies without a DISCONNECT; also published by us on stop(). */
  will?: MqttStateMessage;
  /** Published after every (re)connect, once the subscriptions are back, e.g. portier/bridge/state "online". */
  onlineMessage?: MqttStateMessage;
  username?: string;
  password?: string;
  /** default 250 ms initial, 10 s cap */
  backoff?: BackoffSettings;
  /** s, 5-600, default 30: how soon a silently dead broker is noticed (1.5× this) */
  keepaliveS?: number;
  /** ms, 1000-60000, default 10000: how long one connect attempt may take */
  connectTimeoutMs?: number;
  /** publishes awaiting their acknowledgement, 1-100000, default 1000; beyond it publish() rejects at once */
  maxInflight?: number;
  /** bytes written and not yet taken by the socket beyond which sendQos0() says `congested`; default 1 MiB */
  maxBufferedBytes?: number;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5.0 */
  protocolVersion?: 4 | 5;
  /**
   * s the broker keeps our session (subscriptions and the QoS 1 messages queued for us) while we are away; needs
   * `clientId`. With it the link connects with `clean: false` (MQTT 5: clean start off and this Session Expiry
   * Interval; MQTT 3.1.1 has no expiry: the broker's own setting, e.g. mosquitto's `persistent_client_expiration`,
   * decides). Without it every connection starts a clean session.
   */
  sessionExpiryS?: number;
  /**
   * Resolves once whatever the message handlers recorded so far is durable. When given, the PUBACKs of QoS 1
   * messages are held in the socket (corked) until it resolves, so the broker drops a message from our session
   * only after its event is on disk; when it rejects, the connection is dropped and the broker delivers again.
   * `now`: commit what is queued at once instead of at the end of the event log's commit window.
   */
  ackGate?: (now?: boolean) => Promise<void>;
  /**
   * Runs the handlers of a QoS 1 message whose PUBACK the ack gate holds, on a persistent session (`sessionExpiryS`):
   * the broker delivers it again if the gateway dies before the PUBACK leaves, so what they record needs no crash
   * journal (the event log's `redelivered`). Not for QoS 2: mqtt.js answers PUBREC before the handlers run.
   */
  redelivered?: (handlers: () => void) => void;
}
