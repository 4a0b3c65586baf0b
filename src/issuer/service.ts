import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { importSigningKey, type SigningKey } from '../access/issue.js';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { IssuerStore } from '../store/issuer-store.js';
import { IssuerCloud } from './cloud.js';
import type { IssuerConfig } from './config.js';
import { IssuerEngine } from './engine.js';
import { issuerRoutes } from './routes.js';

export interface RunningIssuer {
  /** where it listens, http://host:port */
  url: string;
  engine: IssuerEngine;
  store: IssuerStore;
  cloud: IssuerCloud | undefined;
  close(): Promise<void>;
}

/** The issuer's private key from its JWK file (as `portier keys generate` writes it). */
export function readIssuerKey(path: string): SigningKey {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PortierError(ErrorCode.ConfigInvalid, `issuer key ${path}: ${reasonOf(err)}`);
  }
  const key = importSigningKey(raw);
  if (typeof (raw as { kid?: unknown }).kid !== 'string') {
    throw new PortierError(
      ErrorCode.ConfigInvalid,
      `issuer key ${path}: the JWK needs a kid (the gateways look keys up by it)`,
    );
  }
  return key;
}

/** Start the issuer: its store, the broker link, the HTTP service. */
export async function startIssuer(cfg: IssuerConfig, log: Logger): Promise<RunningIssuer> {
  const key = readIssuerKey(cfg.key.file);
  const store = new IssuerStore(cfg.state_dir);
  const registry = new Registry();
  const gateways = [...new Set(cfg.doors.map((d) => d.gateway))];
  const cloud = cfg.broker ? new IssuerCloud(cfg.broker, gateways, log) : undefined;
  const engine = new IssuerEngine(cfg, key, store, cloud, log, registry);
  store.purge(Math.floor(Date.now() / 1000));
  const purge = setInterval(() => store.purge(Math.floor(Date.now() / 1000)), 3_600_000);
  purge.unref();
  const app = Fastify({ logger: false, trustProxy: cfg.listen.trust_proxy, bodyLimit: 16_384 });
  issuerRoutes(app, engine, cfg, registry);
  try {
    await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
  } catch (err) {
    clearInterval(purge);
    await cloud?.close();
    store.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.listen.port;
  const url = `http://${cfg.listen.host.includes(':') ? `[${cfg.listen.host}]` : cfg.listen.host}:${port}`;
  await cloud?.ready(3000);
  log.info({ url, public_url: cfg.listen.public_url, doors: cfg.doors.map((d) => d.id), kid: key.kid }, 'issuer ready');
  return {
    url,
    engine,
    store,
    cloud,
    async close() {
      clearInterval(purge);
      await app.close();
      await cloud?.close();
      store.close();
    },
  };
}
