import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkJournalDir } from '../../../src/app/doctor.js';
import { ROOT } from '../../helpers/daemon.js';
import { tempDir } from '../../helpers/tmp.js';
import { mountSmallDisk, type SmallDisk } from '../../helpers/tmpfs.js';

const disk = mountSmallDisk(join(tempDir(), 'run'), '1m');
if ('reason' in disk) console.warn(`doctor journal-dir on a tmpfs SKIPPED: ${disk.reason}`);

describe.skipIf('reason' in disk)('portier doctor: the crash journal directory', () => {
  afterAll(() => (disk as SmallDisk).unmount());

  it('is ok on a tmpfs, also before the daemon made its directory there (a real tmpfs mount)', () => {
    const dir = join((disk as SmallDisk).dir, 'portier');
    expect(checkJournalDir(dir, '/var/lib/portier')).toMatchObject({ check: 'journal-dir', status: 'ok' });
  });

  it('warns, with a fix, when it is on a disk (here the checkout itself)', () => {
    const result = checkJournalDir(undefined, ROOT);
    expect(result).toMatchObject({ check: 'journal-dir', status: 'warn' });
    expect(result.detail).toContain(`crash journal in ${ROOT}, not on a tmpfs`);
    expect(result.fix).toContain('gateway.crash_journal_dir');
  });
});
