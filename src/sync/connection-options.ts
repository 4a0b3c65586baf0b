import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { CloudConfig } from '../config/schema.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { CloudTopics } from './topics.js';

/** The cloud settings the connection needs (a subset of the config's `cloud` section). */
export type CloudConnectionConfig = Pick<
  CloudConfig,
  | 'urls'
  | 'client_id'
  | 'username'
  | 'password_file'
  | 'ca_file'
  | 'cert_file'
  | 'key_file'
  | 'protocol_version'
  | 'keepalive_s'
  | 'session_expiry_s'
>;

/**
 * mqtt.js options for one connection attempt. Certificates, key and password are read from their files on every
 * attempt, so a certificate renewed on disk is picked up at the next reconnect without a restart. TLS always
 * verifies the broker (rejectUnauthorized); there is no option to turn that off.
 */
export function buildClientOptions(
  cfg: CloudConnectionConfig,
  /** the node this attempt goes to, one of cfg.urls */
  url: string,
  gw: string,
  topics: CloudTopics,
  version: 4 | 5,
): IClientOptions {
  const opts: IClientOptions = {
    clientId: cfg.client_id ?? `portier-${gw}`,
    protocolVersion: version,
    // A persistent session keeps commands the cloud sends while we are away; our own unacknowledged batches live
    // in the SQLite outbox, not in the session, and are published again after every reconnect.
    clean: false,
    keepalive: cfg.keepalive_s,
    reconnectPeriod: 0,
    connectTimeout: 15_000,
    resubscribe: false,
    queueQoSZero: false,
    // No cache of 65,536 packet-id Buffers (6 MiB of heap): see src/transports/mqtt.ts.
    writeCache: false,
    will: { topic: topics.status, payload: Buffer.from('offline'), qos: 1, retain: true },
  };
  if (version === 5) opts.properties = { sessionExpiryInterval: cfg.session_expiry_s };
  if (cfg.username !== undefined) opts.username = cfg.username;
  if (cfg.password_file) opts.password = readSecret(cfg.password_file, 'password_file').trimEnd();
  checkConnectionConfig(cfg);
  if (isTls(url)) {
    opts.rejectUnauthorized = true;
    if (cfg.ca_file) opts.ca = readSecret(cfg.ca_file, 'ca_file');
    if (cfg.cert_file && cfg.key_file) {
      opts.cert = readSecret(cfg.cert_file, 'cert_file');
      opts.key = readSecret(cfg.key_file, 'key_file');
    }
  }
  return opts;
}

function isTls(url: string): boolean {
  return /^(mqtts|wss|ssl):/.test(url);
}

/**
 * Settings that can never work, refused at construction rather than retried forever: certificate files with a
 * URL that is not TLS (they would be silently ignored), a client certificate without its key or the reverse.
 */
export function checkConnectionConfig(cfg: CloudConnectionConfig): void {
  if (cfg.urls.length === 0) throw new PortierError(ErrorCode.ConfigInvalid, 'cloud: no broker URL');
  const plain = cfg.urls.find((u) => !isTls(u));
  if (plain !== undefined && (cfg.ca_file || cfg.cert_file || cfg.key_file)) {
    throw new PortierError(
      ErrorCode.ConfigInvalid,
      `cloud url ${plain.replace(/\/\/[^@/]*@/, '//')} is not TLS but ca_file/cert_file/key_file are set; use mqtts://`,
    );
  }
  if (Boolean(cfg.cert_file) !== Boolean(cfg.key_file)) {
    throw new PortierError(ErrorCode.ConfigInvalid, 'cloud.cert_file and cloud.key_file go together');
  }
}

function readSecret(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new PortierError(
      ErrorCode.TransportOpenFailed,
      `cloud.${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
