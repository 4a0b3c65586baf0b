import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMON_OPTIONS } from '../../../src/cli/command.js';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { PortierProcess, ROOT } from '../../helpers/daemon.js';

async function portier(args: string[]) {
  const p = new PortierProcess(args);
  const { code } = await p.exited;
  return {
    code,
    stdout: p.lines.map((l) => (l.raw ? l.msg : JSON.stringify(l))).join('\n'),
    stderr: p.stderr.join('\n'),
  };
}

/** The help line of one option: `--name`, then (after the placeholder) its description and default. */
function optionLine(help: string, name: string): string | undefined {
  return help.split('\n').find((l) => new RegExp(`^\\s+(-\\w, )?--${name}(\\s|$)`).test(l));
}

describe('portier --version and help', () => {
  it('--version prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await portier(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`portier ${version}`);
  });

  it('a group with --help lists its commands and exits 0 (portier token --help)', async () => {
    const r = await portier(['token', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+token verify\s/m);
    expect(r.stdout).toMatch(/^\s+token issue\s/m);
    expect(r.stderr).toBe('');
  });

  it('--help wins over a missing required option', async () => {
    const r = await portier(['token', 'verify', '--help']);
    expect(r.code).toBe(0);
    expect(optionLine(r.stdout, 'keys')).toMatch(/JWK Set/);
  });

  it('<command> --help and help <command> list every option with its description and default', async () => {
    const results = await Promise.all(
      COMMANDS.map(async (cmd) => ({ cmd, r: await portier([...cmd.path, '--help']) })),
    );
    for (const { cmd, r } of results) {
      const where = `portier ${cmd.path.join(' ')} --help`;
      expect(r.code, where).toBe(0);
      expect(r.stdout, where).toContain(`usage: portier ${cmd.path.join(' ')}`);
      for (const [name, o] of Object.entries({ ...cmd.options, ...COMMON_OPTIONS })) {
        const line = optionLine(r.stdout, name);
        expect(line, `${where}: --${name}`).toBeDefined();
        expect(o.description.length, `${where}: --${name} has a description`).toBeGreaterThan(5);
        expect(line, `${where}: --${name}`).toContain(o.description);
        if (o.default !== undefined) expect(line, `${where}: --${name}`).toContain(`default: ${o.default}`);
        if (o.short) expect(line, `${where}: --${name}`).toContain(`-${o.short}, --${name}`);
      }
    }
    // help <command> prints the same text
    const viaHelp = await portier(['help', 'pin', 'issue']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(results.find((x) => x.cmd.path.join(' ') === 'pin issue')!.r.stdout);
    expect(optionLine(viaHelp.stdout, 'digits')).toMatch(/default: 8\)/);
  }, 60_000);

  it('help with a group lists it, help with an unknown command fails with exit 2', async () => {
    const group = await portier(['help', 'pin']);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/^\s+pin secret\s/m);
    const unknown = await portier(['help', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  });
});
