import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../store/private-files.js';
import type { BrokerRole, BrokerUser } from './embedded-broker.js';

/** The demo broker's users: the gateway, an operator (for mosquitto_sub or Home Assistant), the devices, the issuer. */
export const DEMO_BROKER_USERS: ReadonlyArray<{ username: string; role: BrokerRole }> = [
  { username: 'gateway', role: 'gateway' },
  { username: 'operator', role: 'operator' },
  { username: 'devices', role: 'device' },
  // The town's issuer (src/demo/demo-issuer.ts): it sends `open` commands to the gateway, as a cloud would.
  { username: 'issuer', role: 'operator' },
];

/** Where the demo keeps its broker passwords: `<demo dir>/mqtt/<user>.password`, 0600 in a 0700 folder. */
export function demoPasswordFile(demoDir: string, username: string): string {
  return join(demoDir, 'mqtt', `${username}.password`);
}

/**
 * The demo broker's users with their passwords: read from the demo folder, or generated there on first start
 * (24 random bytes, base64url), so an operator's mosquitto_sub or Home Assistant keeps working across runs.
 */
export function demoBrokerUsers(demoDir: string): BrokerUser[] {
  ensurePrivateDir(join(demoDir, 'mqtt'));
  return DEMO_BROKER_USERS.map(({ username, role }) => {
    const file = demoPasswordFile(demoDir, username);
    let password: string;
    try {
      password = readFileSync(file, 'utf8').trim();
    } catch {
      password = randomBytes(24).toString('base64url');
      writePrivateFile(file, `${password}\n`);
    }
    return { username, role, password };
  });
}

/** `mqtt://user:password@host:port` for a client that takes only a URL (the firmware stubs). */
export function urlWithUser(url: string, user: BrokerUser): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user.username);
  u.password = encodeURIComponent(user.password);
  return u.toString().replace(/\/$/, '');
}
