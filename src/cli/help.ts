import { COMMON_OPTIONS, type Command, type OptionSpec } from './command.js';

/** The commands whose path starts with `prefix`, one line each. */
export function overview(commands: readonly Command[], prefix: string[] = []): string {
  const list = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...list.map((c) => c.path.join(' ').length));
  return [
    `usage: portier ${prefix.length ? `${prefix.join(' ')} <command>` : '<command>'} [options]`,
    '',
    ...list.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'portier help <command> (or portier <command> --help) lists its options; portier --version prints the version.',
  ].join('\n');
}

function optionLabel(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}`;
  if (o.type === 'boolean') return flag;
  return `${flag} ${o.arg ?? name.toUpperCase().replace(/-/g, '_')}${o.multiple ? '...' : ''}`;
}

/** A command's help: usage, summary, and every option with its description and default. */
export function commandHelp(cmd: Command): string {
  const options = Object.entries({ ...cmd.options, ...COMMON_OPTIONS });
  const labels = options.map(([name, o]) => optionLabel(name, o));
  const width = Math.max(...labels.map((l) => l.length));
  const lines = options.map(([, o], i) => {
    const extra = [o.multiple ? 'repeatable' : '', o.default === undefined ? '' : `default: ${o.default}`]
      .filter(Boolean)
      .join('; ');
    return `  ${labels[i]!.padEnd(width)}  ${o.description}${extra ? ` (${extra})` : ''}`;
  });
  return [
    `usage: portier ${cmd.path.join(' ')} ${cmd.usage}`.trimEnd(),
    '',
    cmd.summary,
    '',
    'options:',
    ...lines,
  ].join('\n');
}
