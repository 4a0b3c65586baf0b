import { readFileSync } from 'node:fs';
import { builtinDrivers } from '../../../devices/index.js';
import { AdminClientError, type AdminTarget, adminRequest, adminUrl, readAdminToken } from '../../admin/client.js';
import { loadConfigFile } from '../../config/load.js';
import type { GatewayConfig } from '../../config/schema.js';
import { PortierError } from '../../core/errors.js';
import {
  type CliIo,
  type Command,
  configFileOption,
  type OptionSpecs,
  output,
  type ParsedArgs,
  str,
  UsageError,
} from '../command.js';

/** Options every command that talks to the running daemon takes. */
export const adminOptions: OptionSpecs = {
  admin: {
    type: 'string',
    arg: 'HOST:PORT|URL',
    description: "the daemon's admin API",
    default: "$PORTIER_ADMIN_LISTEN, else the config's admin.listen, else 127.0.0.1:8080",
  },
  'state-dir': {
    type: 'string',
    arg: 'DIR',
    description: 'read the admin token from DIR/admin-token',
    default: "$PORTIER_STATE_DIR, else the config's gateway.state_dir, else /var/lib/portier",
  },
  'token-file': { type: 'string', arg: 'FILE', description: 'read the admin token from this file' },
  ...configFileOption('read the admin address and state directory from this config'),
  ca: { type: 'string', arg: 'PEM', description: "CA certificate to trust for an https admin API (the daemon's own)" },
};

const ADMIN_USAGE = '[--admin HOST:PORT|URL] [--state-dir DIR | --token-file FILE] [--config FILE] [--ca PEM]';

/**
 * Find the daemon: the URL from --admin, PORTIER_ADMIN_LISTEN, the config's admin.listen, or 127.0.0.1:8080; the
 * token from --token-file, or the admin-token file of --state-dir, PORTIER_STATE_DIR, the config's state dir, or
 * /var/lib/portier.
 */
export function adminTargetOf(args: ParsedArgs, env: NodeJS.ProcessEnv): AdminTarget {
  let config: GatewayConfig | undefined;
  const configPath = str(args, 'config') ?? env.PORTIER_CONFIG;
  const fromConfig = () => {
    if (!configPath) return undefined;
    config ??= loadConfigFile(configPath, builtinDrivers(), env).config;
    return config;
  };
  const listen = str(args, 'admin') ?? env.PORTIER_ADMIN_LISTEN ?? fromConfig()?.admin.listen ?? '127.0.0.1:8080';
  const tokenFile = str(args, 'token-file');
  const stateDir = str(args, 'state-dir') ?? env.PORTIER_STATE_DIR ?? fromConfig()?.gateway.state_dir;
  const token = readAdminToken(tokenFile ? { tokenFile } : stateDir ? { stateDir } : {});
  const target: AdminTarget = { url: adminUrl(listen), token };
  const ca = str(args, 'ca');
  if (ca) target.ca = readFileSync(ca);
  return target;
}

/**
 * Run a command against the admin API; an API refusal prints its message and every problem by field on stderr
 * (and the error object on stdout with --json) and exits 1, rather than one truncated line.
 */
export function viaApi(
  cmd: Omit<Command, 'run'> & { run(args: ParsedArgs, io: CliIo, target: AdminTarget): Promise<number> },
): Command {
  return {
    ...cmd,
    usage: `${cmd.usage} ${ADMIN_USAGE}`,
    options: { ...adminOptions, ...cmd.options },
    async run(args, io) {
      try {
        return await cmd.run(args, io, adminTargetOf(args, io.env));
      } catch (err) {
        // main() reads `code` as a string; a PortierError's is a number (see guarded() in keys.ts).
        if (err instanceof PortierError) throw new Error(err.message, { cause: err });
        if (!(err instanceof AdminClientError)) throw err;
        if (args.values.json) {
          io.out(JSON.stringify({ error: { code: err.reason, message: err.message, problems: err.problems } }));
        }
        io.err(`portier ${cmd.path.join(' ')}: ${err.message}`);
        for (const p of err.problems) io.err(`  ${p.field}: ${p.message}`);
        return 1;
      }
    },
  };
}

interface DeviceView {
  id: string;
  driver: string;
  kind: string;
  name?: string;
  enabled: boolean;
  source: string;
  up: boolean | null;
  settings: Record<string, unknown>;
  state: Record<string, unknown>;
  state_ts: string | null;
  rejected: Record<string, number>;
}

interface DriverView {
  id: string;
  settings: { properties?: Record<string, { type?: string; anyOf?: Array<{ type?: string }> }> };
}

const health = (up: boolean | null) => (up === true ? 'up' : up === false ? 'DOWN' : 'waiting');

function stateText(state: Record<string, unknown>): string {
  const { ts: _ts, available: _a, up: _u, ...rest } = state;
  return Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/**
 * `--set key=value` pairs typed by the driver's JSON Schema: a DevEUI of digits stays a string, a relay line
 * becomes a number, `groups=a,b` a list. Unknown keys are passed as given so the daemon names them.
 */
export function settingsFromPairs(pairs: string[], driver: DriverView | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--set ${pair}: expected key=value`);
    const key = pair.slice(0, at);
    const text = pair.slice(at + 1);
    const prop = driver?.settings.properties?.[key];
    const type = prop?.type ?? prop?.anyOf?.find((a) => a.type)?.type;
    if (type === 'string') out[key] = text;
    else if (type === 'integer' || type === 'number') out[key] = text.trim() === '' ? text : Number(text);
    else if (type === 'boolean') out[key] = text === 'true' ? true : text === 'false' ? false : text;
    else if (type === 'array')
      out[key] = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else {
      try {
        out[key] = JSON.parse(text);
      } catch {
        out[key] = text;
      }
    }
  }
  return out;
}

function oneId(args: ParsedArgs): string {
  const id = args.positionals[0];
  if (!id || args.positionals.length > 1) throw new UsageError('give one device id');
  return id;
}

const list = viaApi({
  path: ['device', 'list'],
  summary: 'List the devices of the running daemon with their health and live state',
  usage: '[--json]',
  async run(args, io, target) {
    const res = (await adminRequest(target, 'GET', '/api/devices')) as { devices: DeviceView[] };
    output(io, args, res, () =>
      res.devices.length
        ? res.devices
            .map((d) => `${d.id.padEnd(20)} ${d.driver.padEnd(20)} ${health(d.up).padEnd(8)} ${stateText(d.state)}`)
            .join('\n')
        : 'no devices: add one with portier device add ID --driver DRIVER --set key=value',
    );
    return 0;
  },
});

const show = viaApi({
  path: ['device', 'show'],
  summary: 'Show one device: driver, settings, health, rejected inputs and live state',
  usage: 'ID [--json]',
  async run(args, io, target) {
    const id = oneId(args);
    const d = (await adminRequest(target, 'GET', `/api/devices/${encodeURIComponent(id)}`)) as DeviceView;
    output(io, args, d, () =>
      [
        `${d.id}${d.name ? ` (${d.name})` : ''}: ${d.driver}, ${d.kind}, ${health(d.up)}${d.enabled ? '' : ', disabled'}, from ${d.source}`,
        `  settings: ${JSON.stringify(d.settings)}`,
        `  state:    ${stateText(d.state) || '-'}${d.state_ts ? `  (${d.state_ts})` : ''}`,
        `  rejected: ${
          Object.entries(d.rejected)
            .map(([r, n]) => `${r} ${n}`)
            .join(', ') || 'none'
        }`,
      ].join('\n'),
    );
    return 0;
  },
});

const add = viaApi({
  path: ['device', 'add'],
  summary: "Add (or change) a device at run time; validated by its driver's schema, errors by field",
  usage: 'ID --driver DRIVER [--name NAME] [--set KEY=VALUE]... [--settings JSON|@FILE] [--disabled] [--json]',
  options: {
    driver: { type: 'string', arg: 'DRIVER', description: 'the driver id (portier config schema lists them)' },
    name: { type: 'string', arg: 'NAME', description: 'a display name' },
    set: { type: 'string', multiple: true, arg: 'KEY=VALUE', description: 'one setting (a JSON value or text)' },
    settings: { type: 'string', arg: 'JSON|@FILE', description: 'all settings as a JSON object, or @ and a file' },
    disabled: { type: 'boolean', description: 'add it without starting it' },
  },
  async run(args, io, target) {
    const id = oneId(args);
    const driverId = str(args, 'driver');
    if (!driverId) throw new UsageError('give --driver DRIVER (portier device list shows the ones in use)');
    let settings: Record<string, unknown> = {};
    const given = str(args, 'settings');
    if (given !== undefined) {
      const text = given.startsWith('@') ? readFileSync(given.slice(1), 'utf8') : given;
      try {
        settings = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new UsageError('--settings: expected a JSON object (or @FILE holding one)');
      }
    }
    const pairs = (args.values.set as string[] | undefined) ?? [];
    if (pairs.length) {
      const { drivers } = (await adminRequest(target, 'GET', '/api/drivers')) as { drivers: DriverView[] };
      settings = {
        ...settings,
        ...settingsFromPairs(
          pairs,
          drivers.find((d) => d.id === driverId),
        ),
      };
    }
    const body: Record<string, unknown> = { driver: driverId, settings };
    const name = str(args, 'name');
    if (name !== undefined) body.name = name;
    if (args.values.disabled) body.enabled = false;
    const res = (await adminRequest(target, 'PUT', `/api/devices/${encodeURIComponent(id)}`, body)) as {
      action: string;
      device: DeviceView;
    };
    output(io, args, res, () => `${res.action} ${res.device.id} (${res.device.driver})`);
    return 0;
  },
});

const remove = viaApi({
  path: ['device', 'remove'],
  summary: 'Remove a device added at run time (it stops at once; its events stay in the log)',
  usage: 'ID [--json]',
  async run(args, io, target) {
    const id = oneId(args);
    await adminRequest(target, 'DELETE', `/api/devices/${encodeURIComponent(id)}`);
    output(io, args, { removed: id }, () => `removed ${id}`);
    return 0;
  },
});

const test = viaApi({
  path: ['device', 'test'],
  summary: 'Check a device: pulse a lock (audited), or show a sensor’s health and latest readings',
  usage: 'ID [--duration-ms MS] [--json]',
  options: {
    'duration-ms': {
      type: 'string',
      arg: 'MS',
      description: 'how long to hold the relay open',
      default: "the lock's open_time_ms",
    },
  },
  async run(args, io, target) {
    const id = oneId(args);
    const body: Record<string, unknown> = {};
    const ms = str(args, 'duration-ms');
    if (ms !== undefined) body.duration_ms = Number(ms);
    const res = (await adminRequest(target, 'POST', `/api/devices/${encodeURIComponent(id)}/test`, body)) as {
      action: string;
      up: boolean | null;
      state: Record<string, unknown>;
      events: Array<{ ts: string; type: string; data: unknown }>;
    };
    output(io, args, res, () =>
      [
        res.action === 'pulsed' ? `${id}: strike pulsed` : `${id}: ${health(res.up)}`,
        `  state: ${stateText(res.state) || '-'}`,
        ...res.events.slice(-5).map((e) => `  ${e.ts} ${e.type} ${JSON.stringify(e.data)}`),
      ].join('\n'),
    );
    return 0;
  },
});

export const deviceCommands: readonly Command[] = [list, show, add, remove, test];
