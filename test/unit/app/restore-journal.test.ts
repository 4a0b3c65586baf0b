import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBackup, restoreBackup } from '../../../src/app/backup.js';
import { silentLogger } from '../../../src/core/logger.js';
import { crashJournalPath } from '../../../src/store/crash-journal.js';
import { openStore } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';

/** The daemon's commit window is 8 s; a minute means these readings wait in it (and in the journal) until the crash. */
const WINDOW_MS = 60_000;

const open = (stateDir: string, journalDir: string) =>
  openStore({
    stateDir,
    gatewayId: 'gw-rathaus-01',
    log: silentLogger(),
    commitWindowMs: WINDOW_MS,
    crashJournalDir: journalDir,
  });

function reading(store: ReturnType<typeof open>, c: number): void {
  store.events.record({ dev: 'davis-vp2', type: 'weather.reading', data: { air_temperature_c: c } });
}

function temperatures(stateDir: string, journalDir: string): number[] {
  const store = open(stateDir, journalDir);
  try {
    return store.events
      .tail(100, { type: 'weather.reading' })
      .map((e) => (e.data as { air_temperature_c: number }).air_temperature_c)
      .sort((a, b) => a - b);
  } finally {
    store.close();
  }
}

describe('portier restore and the crash journal', () => {
  it("keeps the replaced state's journal aside with it: the restored log does not get its events", async () => {
    const stateDir = join(tempDir('portier-restore-journal-'), 'state');
    const journalDir = tempDir('portier-run-');
    // The backup: two readings committed.
    const first = open(stateDir, journalDir);
    reading(first, 1.5);
    reading(first, 2.5);
    first.close();
    const file = join(tempDir(), 'gw.portier-backup');
    await createBackup({ stateDir, dest: file });

    // Later the daemon records three more and dies inside the window (kill -9): they wait in the journal.
    const later = open(stateDir, journalDir);
    for (const c of [3.5, 4.5, 5.5]) reading(later, c);
    later.db.close();
    const journal = crashJournalPath(journalDir, stateDir);
    expect(readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(3);

    const res = restoreBackup({ file, stateDir, journalDirs: [journalDir, '/nonexistent/run/portier'] });
    expect(existsSync(journal)).toBe(false);
    expect(res.journalsKeptAside).toEqual([join(res.keptAside!, basename(journal))]);
    expect(readFileSync(res.journalsKeptAside[0]!, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(statSync(res.journalsKeptAside[0]!).mode & 0o777).toBe(0o600);

    // The restored gateway starts with the backup's log only; the old state (and its journal) is still there.
    expect(temperatures(stateDir, journalDir)).toEqual([1.5, 2.5]);
    expect(readdirSync(res.keptAside!)).toContain(basename(journal));
  });

  it('without it, the same start would have replayed the old events into the restored log', async () => {
    const stateDir = join(tempDir('portier-restore-journal-'), 'state');
    const journalDir = tempDir('portier-run-');
    const first = open(stateDir, journalDir);
    reading(first, 1.5);
    first.close();
    const file = join(tempDir(), 'gw.portier-backup');
    await createBackup({ stateDir, dest: file });
    const later = open(stateDir, journalDir);
    reading(later, 3.5);
    later.db.close();

    // A restore told nothing of the journal's directory leaves the journal where the next start finds it.
    const res = restoreBackup({ file, stateDir, journalDirs: [] });
    expect(res.journalsKeptAside).toEqual([]);
    expect(temperatures(stateDir, journalDir)).toEqual([1.5, 3.5]);
  });
});
