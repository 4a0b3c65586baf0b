import { ApiError } from './api-errors.js';
import { errorSchema, eventsQuery, eventsResponse, streamQuery } from './api-schemas.js';
import type { AdminContext } from './context.js';
import { type AnyRoute, defineRoute } from './route.js';
import { securityHeaders } from './security-headers.js';

/** The event log: a tail or a page after a seq, and a live stream. */
export function eventRoutes(ctx: AdminContext): AnyRoute[] {
  const events = ctx.gateway.store.query;
  return [
    defineRoute({
      method: 'GET',
      url: '/api/events',
      summary: 'The event log: the newest `limit` events, or with `after` the next `limit` after that seq',
      tag: 'events',
      auth: 'bearer',
      query: eventsQuery,
      responses: {
        200: { description: 'Events, oldest first', schema: eventsResponse },
        400: { description: 'Invalid query', schema: errorSchema },
      },
      handler: ({ query, reply }) => {
        const rows = events.page(query);
        // Where to read on: a full page ends at its last row; otherwise every match up to the log's end was given
        // (read in the same turn), so a filtered follower does not re-read events that did not match.
        const newest = events.maxSeq();
        const full = query.after !== undefined && rows.length === query.limit;
        const last = full ? rows.at(-1)!.seq : Math.max(newest, query.after ?? 0);
        // The stored bodies are the events' JSON already: splice them rather than parse and re-serialize.
        reply.type('application/json; charset=utf-8');
        return `{"events":[${rows.map((r) => r.body).join(',')}],"last_seq":${last}}`;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/events/stream',
      summary: 'Server-Sent Events of every committed event (id = seq; Last-Event-ID resumes), for live views',
      tag: 'events',
      auth: 'bearer',
      query: streamQuery,
      responses: {
        200: { description: '`event: event` messages whose data is one event', contentType: 'text/event-stream' },
        503: { description: 'Too many streams open', schema: errorSchema },
      },
      handler: ({ query, req, reply }) => {
        if (!ctx.stream.hasRoom()) throw new ApiError(503, 'too_many_streams', 'too many event streams are open');
        const header = req.headers['last-event-id'];
        const lastId = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
        reply.hijack();
        ctx.stream.open(reply.raw, {
          ...(query.dev ? { dev: query.dev } : {}),
          ...(query.type ? { type: query.type } : {}),
          ...(lastId !== undefined ? { lastEventId: lastId } : {}),
          headers: securityHeaders(false),
        });
      },
    }),
  ];
}
