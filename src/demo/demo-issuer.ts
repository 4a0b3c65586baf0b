import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Gateway } from '../app/gateway.js';
import { reasonOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { parseIssuerConfig } from '../issuer/config.js';
import { type RunningIssuer, startIssuer } from '../issuer/service.js';
import { ensurePrivateDir, writePrivateFile } from '../store/private-files.js';

/** The demo issuer's key: made on first start in the demo folder (0600), kept across runs. */
function demoIssuerKey(dir: string): { file: string; publicJwk: Record<string, unknown> } {
  ensurePrivateDir(dir);
  const file = join(dir, 'issuer-key.jwk.json');
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    writePrivateFile(
      file,
      JSON.stringify({ ...(privateKey.export({ format: 'jwk' }) as object), kid: 'demo-issuer', alg: 'EdDSA' }),
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const { d: _private, ...pub } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return { file, publicJwk: pub };
}

/**
 * The town's issuer beside the demo gateway (docs/issuer.md): door pages for the station square toilet, talking to
 * the gateway over the embedded broker as the cloud broker. Its key is trusted by the gateway as soon as the
 * gateway's access service runs. A port already taken leaves the demo running without it, with a warning.
 */
export async function startDemoIssuer(opts: {
  demoDir: string;
  brokerUrl: string;
  passwordFile: string;
  gateway: Gateway;
  port: number;
  passPageUrl: string;
  log: Logger;
}): Promise<RunningIssuer | undefined> {
  const dir = join(opts.demoDir, 'issuer');
  const key = demoIssuerKey(dir);
  const trust = opts.gateway.bus.on('event', () => {
    if (!opts.gateway.access) return;
    trust();
    opts.gateway.access.service.keys.importJwks({ keys: [key.publicJwk] });
  });
  const cfg = parseIssuerConfig(`version: 1
listen: { host: 127.0.0.1, port: ${opts.port}, public_url: 'http://127.0.0.1:${opts.port}' }
state_dir: ${JSON.stringify(join(dir, 'state'))}
log: { level: info }
key: { file: ${JSON.stringify(key.file)}, iss: 'https://demo-town.invalid/issuer' }
broker: { url: '${opts.brokerUrl}', username: issuer, password_file: ${JSON.stringify(opts.passwordFile)}, client_id: demo-issuer, protocol_version: 4 }
doors:
  - id: toilet-1
    gateway: demo-gw
    name: { de: 'Öffentliche Toilette, Bahnhofsplatz', en: 'Public toilet, station square' }
    features: { scanner: true, euro_key: true }
    pass_page_url: ${opts.passPageUrl}
`);
  try {
    const running = await startIssuer(cfg, opts.log);
    opts.log.info(
      `demo: the door page of toilet-1 (the sticker's target): ${running.url}/d/toilet-1 — open it and press Open`,
    );
    return running;
  } catch (err) {
    trust();
    opts.log.warn({ err: reasonOf(err), port: opts.port }, 'demo: issuer not started (set PORTIER_DEMO_ISSUER_PORT)');
    return undefined;
  }
}
