import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/package-root.js';
import { eventLogBench } from './event-log-bench.js';
import type { Bench, BenchRow } from './types.js';

/** Every benchmark, in the order they are printed. Each measures its reference in the same run. */
const BENCHES: Array<{ title: string; load: () => Promise<Bench> }> = [
  { title: 'Event log', load: async () => eventLogBench },
  { title: 'Access: pass verification', load: async () => (await import('./access-bench.js')).accessBench },
  {
    title: 'Parking: decode to outbox through the broker',
    load: async () => (await import('./parking-bench.js')).parkingBench,
  },
  { title: 'Cloud sync: backlog drain', load: async () => (await import('./sync-bench.js')).syncBench },
  { title: 'Start: backlog to READY', load: async () => (await import('./start-bench.js')).startBench },
  { title: 'Access: scan to relay', load: async () => (await import('./access-latency-bench.js')).accessLatencyBench },
  { title: 'Issuer: tap to relay', load: async () => (await import('./issuer-latency-bench.js')).issuerLatencyBench },
];

function fmt(v: number, unit: string): string {
  return `${v.toLocaleString('en-US')} ${unit}`;
}

function line(r: BenchRow): string {
  const ref = r.reference ? `${fmt(r.reference.value, r.reference.unit)} (${r.reference.name})` : '';
  const ratio = r.reference && r.reference.value > 0 ? `${Math.round((r.value / r.reference.value) * 100)} %` : '';
  const target = r.target ? `${r.target}${r.ok === undefined ? '' : r.ok ? ' ✓' : ' ✗'}` : '';
  return `| ${r.name} | ${fmt(r.value, r.unit)} | ${ref} | ${ratio} | ${target} |`;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const out: string[] = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}.`,
    'Each figure stands next to its reference, measured in the same run on the same machine.',
    '',
  ];
  for (const b of BENCHES) {
    if (only.length && !only.some((o) => b.title.toLowerCase().includes(o.toLowerCase()))) continue;
    process.stdout.write(`running: ${b.title}\n`);
    const rows = await (await b.load())();
    out.push(
      `## ${b.title}`,
      '',
      '| figure | value | reference (same run) | ratio | target |',
      '|---|---|---|---|---|',
      ...rows.map(line),
      '',
    );
    for (const r of rows) process.stdout.write(`${line(r)}\n`);
  }
  if (!only.length) writeFileSync(join(packageRoot(), 'docs', 'benchmarks.md'), `${out.join('\n')}\n`);
  process.stdout.write(
    only.length ? 'partial run: docs/benchmarks.md left as it was\n' : 'written: docs/benchmarks.md\n',
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
