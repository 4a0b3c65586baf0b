import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/core/package-root.js';

const run = promisify(execFile);

/**
 * What `npm pack` puts in the tarball deploy/install.sh installs on a Pi: the package.json `files` list. The
 * runtime reads the compiled code and, from the package root, the admin page's static files, the config schemas
 * and the unit; the tests, sources and dev config stay behind. (`--ignore-scripts`: the build is not re-run while
 * other tests read dist/; the shrinkwrap comes from the prepack script, checked below.)
 */
describe('the packed package', () => {
  it('holds what the daemon reads at run time and none of the tests', async () => {
    const root = packageRoot();
    const { stdout } = await run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = new Set(pack!.files.map((f) => f.path));

    for (const needed of [
      'package.json',
      'README.md',
      'dist/src/cli/bin.js',
      'dist/src/store/event-writer.js',
      'dist/devices/index.js',
      'dist/firmware-stubs/toilet-cabin.js',
      'config/portier.schema.json',
      'config/issuer.schema.json',
      'config/example.yaml',
      'config/mosquitto/portier.conf',
      'systemd/portier.service',
      'deploy/install.sh',
      'docs/operations.md',
    ]) {
      expect(files, needed).toContain(needed);
    }
    // Every static file of the local admin page (src/admin/web-assets.ts serves them from the package root).
    for (const asset of readdirSync(join(root, 'src', 'admin', 'web'))) {
      expect(files, asset).toContain(`src/admin/web/${asset}`);
    }
    const stray = [...files].filter(
      (f) => f.startsWith('dist/test/') || f.startsWith('test/') || (f.startsWith('src/') && f.endsWith('.ts')),
    );
    expect(stray).toEqual([]);
    expect([...files].filter((f) => f.startsWith('.ci/') || f === 'tsconfig.json' || f === 'biome.json')).toEqual([]);
  }, 60_000);

  it('ships the lockfile as a shrinkwrap, so a Pi installs the tested versions', async () => {
    const pkg = (await import(join(packageRoot(), 'package.json'), { with: { type: 'json' } })).default as {
      files: string[];
      scripts: Record<string, string>;
    };
    expect(pkg.files).toContain('npm-shrinkwrap.json');
    expect(pkg.scripts.prepack).toBe('cp package-lock.json npm-shrinkwrap.json');
    expect(pkg.scripts.postpack).toBe('rm -f npm-shrinkwrap.json');
  });
});
