import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError, parsePart } from './api-errors.js';

/** Who may call a route: the bearer token, anyone, or anyone on loopback (others need the token). */
export type RouteAuth = 'bearer' | 'none' | 'loopback-or-bearer';

export interface ResponseSpec {
  description: string;
  /** JSON body; absent for non-JSON answers. */
  schema?: z.ZodType;
  /** Content type when not JSON (text/event-stream, text/plain). */
  contentType?: string;
}

/** One route: what it takes and answers (for validation and the OpenAPI document) and what it does. */
export interface RouteSpec<Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType> {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Fastify path, `/api/devices/:id`. */
  url: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  query?: Q;
  params?: P;
  body?: B;
  /** The body may be left out entirely (then the schema sees `{}`). */
  bodyOptional?: boolean;
  responses: Record<number, ResponseSpec>;
  handler(ctx: {
    query: z.output<Q>;
    params: z.output<P>;
    body: z.output<B>;
    req: FastifyRequest;
    reply: FastifyReply;
  }): unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of routes; each was type-checked where defined
export type AnyRoute = RouteSpec<any, any, any>;

/** Define a route with its types inferred from its schemas. */
export function defineRoute<Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType>(
  spec: RouteSpec<Q, P, B>,
): RouteSpec<Q, P, B> {
  return spec;
}

/**
 * Register routes on fastify. Every query, path parameter and body passes its zod schema before the handler runs
 * (fastify's own schema validation is not used: one validator, one error shape). Routes without a query schema
 * refuse any query parameter, so a typo is an error rather than silently ignored.
 */
export function registerRoutes(app: FastifyInstance, routes: readonly AnyRoute[]): void {
  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.url,
      config: { auth: r.auth },
      handler: async (req, reply) => {
        const rawQuery = (req.query ?? {}) as Record<string, unknown>;
        const query = r.query ? parsePart(r.query, rawQuery, 'query') : noExtras(rawQuery, 'query');
        const params = r.params ? parsePart(r.params, req.params, 'path') : {};
        let body: unknown;
        if (r.body) {
          const raw = req.body === undefined || req.body === null ? (r.bodyOptional ? {} : undefined) : req.body;
          body = parsePart(r.body, raw, 'body');
        }
        return r.handler({ query, params, body, req, reply });
      },
    });
  }
}

function noExtras(raw: Record<string, unknown>, part: 'query'): Record<string, never> {
  const keys = Object.keys(raw);
  if (keys.length === 0) return {};
  const problems = keys.map((k) => ({ field: k, message: `unknown ${part} parameter "${k}"` }));
  throw new ApiError(400, 'validation_failed', `invalid ${part}: ${problems[0]!.message}`, problems);
}
