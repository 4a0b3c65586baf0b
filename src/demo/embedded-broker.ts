import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';

/**
 * Who a broker user is. The gateway and operators (Home Assistant, a person with mosquitto_sub) may publish
 * anywhere; a device (the simulated sensors) may not publish under the gateway's topics or the discovery prefix, so
 * it can neither command a lock (`<base>/<lock>/set`), ask the bridge API, nor forge a state or an entity.
 */
export type BrokerRole = 'gateway' | 'operator' | 'device';

export interface BrokerUser {
  username: string;
  password: string;
  role: BrokerRole;
}

export interface EmbeddedBrokerOptions {
  /** TCP port on loopback; 0 picks a free one. */
  port?: number;
  /** The only clients admitted; anyone else (anonymous included) is refused at CONNECT. */
  users: readonly BrokerUser[];
  /** The gateway's local base topic, default `portier`. */
  baseTopic?: string;
  /** Home Assistant's discovery prefix, default `homeassistant`. */
  discoveryPrefix?: string;
}

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** Publishes refused by the ACL since start. */
  readonly refusedPublishes: number;
  close(): Promise<void>;
}

/** Return codes of CONNACK (MQTT 3.1.1 section 3.2.2.3): identifier rejected, bad user name or password. */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
/**
 * Client ids the gateway uses (`portier-<gateway id>` unless local_mqtt.client_id says otherwise): a client taking
 * over the gateway's id would push the gateway off the broker, so only the gateway user may use them.
 */
const GATEWAY_CLIENT_PREFIX = 'portier-';

/** SHA-256 of a secret, so a comparison takes the same time whatever the lengths (as the admin token's). */
function digest(secret: string | Buffer): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * An in-process MQTT broker (aedes) on loopback, so the demo needs no external service. Only the demo uses it:
 * deployments and tests use mosquitto (config/mosquitto/ has the same rules for it). It admits only the given
 * users, and enforces by role who may publish what (BrokerRole).
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const base = opts.baseTopic ?? 'portier';
  const prefix = opts.discoveryPrefix ?? 'homeassistant';
  const users = new Map(opts.users.map((u) => [u.username, { role: u.role, hash: digest(u.password) }]));
  const roles = new WeakMap<Client, BrokerRole>();
  let refusedPublishes = 0;
  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      const user = username === undefined ? undefined : users.get(username);
      // Hash even for an unknown user, so the answer takes as long as for a known one.
      const given = digest(password ?? Buffer.alloc(0));
      if (!user || !timingSafeEqual(given, user.hash)) {
        const err = new Error('bad user name or password') as AuthenticateError;
        err.returnCode = BAD_USERNAME_OR_PASSWORD;
        done(err, false);
        return;
      }
      if (client.id.startsWith(GATEWAY_CLIENT_PREFIX) && user.role !== 'gateway') {
        const err = new Error(`client id ${client.id} is the gateway's`) as AuthenticateError;
        err.returnCode = IDENTIFIER_REJECTED;
        done(err, false);
        return;
      }
      roles.set(client, user.role);
      done(null, true);
    },
    authorizePublish(client, packet, callback) {
      // Messages the broker publishes itself (no client) are its own.
      if (!client) return callback(null);
      const role = roles.get(client);
      const topic = packet.topic;
      const ours = [base, prefix].some((t) => topic === t || topic.startsWith(`${t}/`));
      if (role === 'gateway' || role === 'operator' || (role === 'device' && !ours)) return callback(null);
      refusedPublishes++;
      callback(new Error(`${role ?? 'unknown'} client may not publish on ${topic}`));
    },
  });
  const server: Server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    port: bound,
    get refusedPublishes() {
      return refusedPublishes;
    },
    async close() {
      // Close the broker first: it ends the client connections, which server.close() would wait for.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
