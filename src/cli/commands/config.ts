import { z } from 'zod';
import { builtinDrivers } from '../../../devices/index.js';
import { ConfigError, loadConfigFile } from '../../config/load.js';
import { configSchema } from '../../config/schema.js';
import { type Command, configFileOption, output, str, UsageError } from '../command.js';

/** The config file to use: --config, then PORTIER_CONFIG. */
export function configPath(args: { values: Record<string, unknown> }, env: NodeJS.ProcessEnv): string | undefined {
  const v = args.values.config;
  return typeof v === 'string' ? v : env.PORTIER_CONFIG;
}

const check: Command = {
  path: ['config', 'check'],
  summary: 'Validate a config file and list every problem by path',
  usage: '[--config FILE] [--json]',
  options: configFileOption(),
  run(args, io) {
    const path = str(args, 'config') ?? io.env.PORTIER_CONFIG;
    if (!path) throw new UsageError('give --config FILE or set PORTIER_CONFIG');
    try {
      const loaded = loadConfigFile(path, builtinDrivers(), io.env);
      output(io, args, { ok: true, devices: loaded.devices.length, notes: loaded.notes }, () =>
        [`${path}: ok, ${loaded.devices.length} device(s)`, ...loaded.notes.map((n) => `  ${n}`)].join('\n'),
      );
      return 0;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (args.values.json) io.out(JSON.stringify({ ok: false, problems: err.problems }));
      else io.err(`${path}: ${err.problems.length} problem(s)\n  ${err.problems.join('\n  ')}`);
      return 1;
    }
  },
};

const schema: Command = {
  path: ['config', 'schema'],
  summary: 'Print the JSON Schema of the config file (for editors), with each driver under devices',
  usage: '',
  run(_args, io) {
    const drivers = builtinDrivers().all();
    const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    const deviceSchemas = drivers.map((d) => {
      const own = z.toJSONSchema(d.config, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      const props = (own.properties ?? {}) as Record<string, unknown>;
      return {
        title: d.id,
        description: d.description,
        type: 'object',
        required: ['id', 'driver', ...((own.required as string[] | undefined) ?? [])],
        properties: {
          id: { type: 'string' },
          driver: { const: d.id },
          name: { type: 'string' },
          enabled: { type: 'boolean' },
          ...props,
        },
        additionalProperties: false,
      };
    });
    const props = root.properties as Record<string, Record<string, unknown>>;
    if (deviceSchemas.length) props.devices = { type: 'array', items: { oneOf: deviceSchemas } };
    io.out(JSON.stringify({ $id: 'https://portier.invalid/config.schema.json', ...root }, null, 2));
    return 0;
  },
};

export const configCommands: readonly Command[] = [check, schema];
