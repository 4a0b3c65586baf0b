import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN } from '../../helpers/daemon.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built `portier` binary as a real process (npm test builds dist/ first). */
export function portier(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    proc.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(opts.stdin ?? '');
  });
}

/** Run and parse the one JSON line a `--json` command prints. */
export async function portierJson(
  args: string[],
  opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; json: Record<string, unknown>; stderr: string }> {
  const r = await portier([...args, '--json'], opts);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`portier ${args.slice(0, 2).join(' ')} printed no JSON (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}
