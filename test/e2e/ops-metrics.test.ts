import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PortierProcess, ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const DASHBOARD = join(ROOT, 'ops', 'grafana', 'portier-dashboard.json');
const ALERTS = join(ROOT, 'ops', 'prometheus', 'portier-alerts.yml');

/** PromQL words that are not metric names (prometheus.io/docs/prometheus/latest/querying/operators/). */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);
/** Series Prometheus makes itself for every scrape target; a gateway never exports them. */
const SYNTHETIC = new Set(['up']);

/**
 * The metric names a PromQL expression selects: identifiers that stand alone or are followed by `{` or `[`, after
 * removing string literals, label matchers, range/subquery durations, grouping label lists and function calls'
 * names (an identifier followed by `(`).
 */
function metricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  // not inside a number or a duration (`5m`, `1e3`)
  for (const m of text.matchAll(/(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = text.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function or aggregation
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

/** Every PromQL expression in the dashboard: panel targets and template variable queries. */
function dashboardExprs(): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'expr' && typeof x === 'string') out.push(x);
        else if (k === 'definition' && typeof x === 'string') {
          // label_values(metric, label) names a metric too
          const m = /^label_values\(\s*([A-Za-z_:][\w:]*)/.exec(x);
          if (m) out.push(m[1]!);
        } else walk(x);
      }
    }
  };
  walk(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
  return out;
}

function alertExprs(): string[] {
  const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
  return doc.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

/** Families from the `# TYPE` lines of an exposition, with the series names each one's samples use. */
function exposedSeries(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

describe('the shipped Grafana dashboard and Prometheus alert rules', () => {
  it('the name extractor finds names the way PromQL reads them', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (instance, le) (rate(a_bucket{job="x",le=~"1|2"}[5m]))) > 300 and on (instance) b_total offset 5m',
      ),
    ).toEqual(['a_bucket', 'b_total']);
    expect(metricNames('count by (instance) (c == 0) / ignoring(lane) d')).toEqual(['c', 'd']);
  });

  describe('against a live gateway', () => {
    let daemon: PortierProcess;
    let metrics: string;

    beforeAll(async () => {
      const dir = tempDir('portier-ops-');
      const config = join(dir, 'portier.yaml');
      // A lock, a reader, and a cloud section (at a closed port: the sync families exist, nothing is sent).
      writeFileSync(
        config,
        `version: 1
gateway: { id: ops-gw, state_dir: ${join(dir, 'state')}, trust_system_clock: true }
admin: { listen: "127.0.0.1:0" }
cloud: { url: "mqtt://127.0.0.1:9" }
gpio: { backend: sim, sim_dir: ${dir} }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: 17 }
  - { id: qr-1, driver: serial-qr-reader, path: ${join(dir, 'no-such-tty')}, lock: door-1 }
`,
      );
      daemon = new PortierProcess(['run', '--config', config]);
      const listening = await daemon.waitFor((l) => l.msg === 'admin API and dashboard listening', 20_000);
      const token = readFileSync(join(dir, 'state', 'admin-token'), 'utf8').trim();
      const res = await fetch(`${String(listening.url)}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      metrics = await res.text();
    }, 30_000);
    afterAll(async () => {
      daemon?.kill('SIGTERM');
      await daemon?.exited;
    });

    it('every metric the dashboard queries is exported', () => {
      const exposed = exposedSeries(metrics);
      const used = new Set(dashboardExprs().flatMap(metricNames));
      expect(used.size).toBeGreaterThan(15);
      expect([...used].filter((n) => !exposed.has(n) && !SYNTHETIC.has(n))).toEqual([]);
    });

    it('every metric the alert rules use is exported', () => {
      const exposed = exposedSeries(metrics);
      const used = new Set(alertExprs().flatMap(metricNames));
      expect(used).toContain('portier_cloud_delivery_age_seconds_bucket');
      expect(used).toContain('portier_access_decision_latency_seconds_bucket');
      expect([...used].filter((n) => !exposed.has(n) && !SYNTHETIC.has(n))).toEqual([]);
    });

    it('exports Node defaults under their standard names and no duplicated family', () => {
      const exposed = exposedSeries(metrics);
      for (const n of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_p99_seconds',
      ])
        expect(exposed).toContain(n);
      for (const gone of [
        'portier_sync_backlog_events',
        'portier_sync_backlog_age_seconds',
        'portier_event_loop_lag_seconds',
        'portier_process_cpu_seconds_total',
      ])
        expect(exposed).not.toContain(gone);
    });
  });
});
