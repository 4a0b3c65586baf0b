import { Counter, Gauge, type Registry } from 'prom-client';
import type { CrashJournal } from './crash-journal.js';
import type { EventLog } from './event-log.js';

/**
 * The commit window's metrics: events waiting in memory for their commit, and the crash journal's counts (lines
 * waiting, events replayed at start, damaged lines skipped then, events that could not be journaled). Read at
 * scrape time.
 */
export function watchCommitWindow(events: EventLog, journal: CrashJournal | undefined, registry: Registry): void {
  new Gauge({
    name: 'portier_commit_window_events',
    help: 'Telemetry and state events waiting in memory for the commit window to end (docs/sync.md, Durability)',
    registers: [registry],
    collect() {
      this.set(events.waiting);
    },
  });
  if (!journal) return;
  new Gauge({
    name: 'portier_crash_journal_entries',
    help: 'Events in the crash journal, waiting for their commit',
    registers: [registry],
    collect() {
      this.set(journal.pending);
    },
  });
  const counts: Array<[name: string, help: string, value: () => number]> = [
    [
      'portier_crash_journal_replayed_total',
      'Events a process crash left in the crash journal, committed at this start with their original time',
      () => journal.replayed,
    ],
    [
      'portier_crash_journal_damaged_total',
      'Crash journal lines that could not be read at start (a write cut short), skipped',
      () => journal.damaged,
    ],
    [
      'portier_crash_journal_failures_total',
      'Events the crash journal could not hold (its directory full or not writable): committed at once instead',
      () => journal.failures,
    ],
  ];
  for (const [name, help, value] of counts) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  }
}
