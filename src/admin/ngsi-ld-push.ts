import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import { Backoff, NETWORK_BACKOFF } from '../transports/backoff.js';
import type { NgsiLdEntity } from './ngsi-ld.js';
import type { NgsiLdSource } from './ngsi-ld-source.js';

export interface NgsiLdPushOptions {
  /** The context broker's base URL; upserts go to `{url}/ngsi-ld/v1/entityOperations/upsert`. */
  url: string;
  /** NGSILD-Tenant header. */
  tenant?: string | undefined;
  batch_size: number;
  interval_s: number;
  max_queue: number;
}

export interface NgsiLdPushHandle {
  /** Entities waiting for the broker. */
  readonly queued: number;
  close(): Promise<void>;
}

/** ms one upsert request may take before it counts as failed */
const REQUEST_TIMEOUT_MS = 15_000;

/** A refusal that sending the same entities again cannot cure (bad data): dropped and counted, not retried. */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && ![401, 403, 404, 408, 425, 429].includes(status);
}

function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter<string> {
  return (
    (registry.getSingleMetric(name) as Counter<string> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

/**
 * Pushes the gateway's NGSI-LD entities to a context broker with batch upserts (ETSI GS CIM 009 `POST
 * /ngsi-ld/v1/entityOperations/upsert`, `application/ld+json`, the @context in each entity; NGSILD-Tenant when
 * set): every entity at start, then each one whose source changed, at most every `interval_s`, `batch_size` per
 * request. While the broker is away the queue holds the latest state of each entity (a newer one replaces the one
 * waiting), at most `max_queue` of them (the oldest is dropped and counted); requests are retried with the links'
 * backoff (full jitter, capped at 10 s), so the broker gets the current state of everything soon after it is back.
 * A refusal of the data itself (400, 422, or per entity in a 207) is logged and counted, not retried.
 */
export function startNgsiLdPush(
  source: Pick<NgsiLdSource, 'onChange' | 'entities' | 'seeded'>,
  opts: NgsiLdPushOptions,
  deps: { registry: Registry; log: Logger },
): NgsiLdPushHandle {
  const log = deps.log.child({ component: 'ngsi-ld-push' });
  const endpoint = `${opts.url.replace(/\/+$/, '')}/ngsi-ld/v1/entityOperations/upsert`;
  const upserted = counter(deps.registry, 'portier_ngsi_ld_upserted_total', 'NGSI-LD entities the broker accepted');
  const dropped = counter(
    deps.registry,
    'portier_ngsi_ld_dropped_total',
    'NGSI-LD entities dropped unsent, by reason (queue_full, refused)',
    ['reason'],
  );
  const failures = counter(deps.registry, 'portier_ngsi_ld_push_failures_total', 'Upsert requests that failed');
  const queueGauge =
    (deps.registry.getSingleMetric('portier_ngsi_ld_queue') as Gauge | undefined) ??
    new Gauge({
      name: 'portier_ngsi_ld_queue',
      help: 'NGSI-LD entities waiting for the broker',
      registers: [deps.registry],
    });
  /** entity id → its latest state; Map order is the order they became due */
  const queue = new Map<string, NgsiLdEntity>();
  const backoff = new Backoff({ initialMs: 500 }, NETWORK_BACKOFF);
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> | undefined;
  let closed = false;
  let downSince: number | undefined;

  const enqueue = (entities: NgsiLdEntity[]): void => {
    for (const e of entities) {
      queue.delete(e.id);
      if (queue.size >= opts.max_queue) {
        const oldest = queue.keys().next().value as string;
        queue.delete(oldest);
        dropped.inc({ reason: 'queue_full' });
      }
      queue.set(e.id, e);
    }
    queueGauge.set(queue.size);
    if (queue.size > 0 && timer === undefined && sending === undefined) schedule(opts.interval_s * 1000);
  };

  const schedule = (ms: number): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      sending = flush().finally(() => {
        sending = undefined;
      });
    }, ms);
  };

  /** One request; resolves true when the broker took it (or refused the data for good). */
  const post = async (batch: NgsiLdEntity[]): Promise<boolean> => {
    const headers: Record<string, string> = { 'content-type': 'application/ld+json', accept: 'application/json' };
    if (opts.tenant) headers['NGSILD-Tenant'] = opts.tenant;
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      failures.inc();
      log.debug({ reason: (err as Error).message }, 'context broker unreachable');
      return false;
    }
    const text = await res.text().catch(() => '');
    if (res.status === 207) {
      let errors: Array<{ entityId?: string }> = [];
      try {
        errors = (JSON.parse(text) as { errors?: Array<{ entityId?: string }> }).errors ?? [];
      } catch {
        errors = [];
      }
      upserted.inc(batch.length - errors.length);
      if (errors.length > 0) {
        dropped.inc({ reason: 'refused' }, errors.length);
        log.warn({ refused: errors.slice(0, 10) }, 'context broker refused some entities');
      }
      return true;
    }
    if (res.ok) {
      upserted.inc(batch.length);
      return true;
    }
    if (isPermanent(res.status)) {
      dropped.inc({ reason: 'refused' }, batch.length);
      log.error({ status: res.status, body: text.slice(0, 500) }, 'context broker refused the upsert; not retried');
      return true;
    }
    failures.inc();
    log.warn({ status: res.status, body: text.slice(0, 200) }, 'context broker answered with an error; retrying');
    return false;
  };

  const flush = async (): Promise<void> => {
    while (!closed && queue.size > 0) {
      const batch = [...queue.values()].slice(0, opts.batch_size);
      const ok = await post(batch);
      if (!ok) {
        downSince ??= Date.now();
        schedule(backoff.next(Date.now() - downSince) + 1);
        return;
      }
      if (downSince !== undefined) log.info({ away_ms: Date.now() - downSince }, 'context broker reachable again');
      downSince = undefined;
      backoff.reset();
      // An entity that changed while its batch was on the way stays queued with its newer state.
      for (const e of batch) if (queue.get(e.id) === e) queue.delete(e.id);
      queueGauge.set(queue.size);
    }
  };

  const off = source.onChange((ids) => enqueue(source.entities(new Set(ids))));
  void source.seeded.then(() => {
    if (!closed) enqueue(source.entities());
  });
  // Credentials in the URL (user:password@) stay out of the log.
  const shown = new URL(endpoint);
  shown.username = '';
  shown.password = '';
  log.info({ url: shown.href, tenant: opts.tenant }, 'pushing NGSI-LD entities to the context broker');

  return {
    get queued() {
      return queue.size;
    },
    async close() {
      closed = true;
      off();
      clearTimeout(timer);
      await sending;
    },
  };
}
