import { z } from 'zod';
import { errorSchema } from './api-schemas.js';
import type { AnyRoute, RouteAuth } from './route.js';

/** JSON Schema of a zod schema as OpenAPI 3.1 takes it (JSON Schema 2020-12, minus the `$schema` marker). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** `/api/devices/:id` → `/api/devices/{id}` */
function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** Query or path parameters from an object schema, each with its own JSON Schema. */
function parametersOf(schema: z.ZodType | undefined, where: 'query' | 'path'): Array<Record<string, unknown>> {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(js.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    const p: Record<string, unknown> = {
      name,
      in: where,
      required: where === 'path' || (js.required ?? []).includes(name),
      schema: rest,
    };
    if (typeof description === 'string') p.description = description;
    return p;
  });
}

function securityOf(auth: RouteAuth): Array<Record<string, string[]>> {
  if (auth === 'none') return [];
  // loopback-or-bearer: the token is optional, which OpenAPI writes as an alternative with no requirement
  return auth === 'bearer' ? [{ bearer: [] }] : [{}, { bearer: [] }];
}

/**
 * The OpenAPI 3.1 description of the admin API, built from the same route table and zod schemas that the server
 * validates with.
 */
export function buildOpenApi(routes: readonly AnyRoute[], info: { version: string; serverUrl?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${openapiPath(r.url)
        .replace(/[{}]/g, '')
        .split(/[/.-]/)
        .filter(Boolean)
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join('')}`,
      summary: r.summary,
      tags: [r.tag],
      security: securityOf(r.auth),
    };
    const parameters = [...parametersOf(r.params, 'path'), ...parametersOf(r.query, 'query')];
    if (parameters.length) op.parameters = parameters;
    if (r.body) {
      op.requestBody = {
        required: !r.bodyOptional,
        content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
      };
    }
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      const entry: Record<string, unknown> = { description: res.description };
      if (res.schema) entry.content = { 'application/json': { schema: jsonSchema(res.schema, 'output') } };
      else if (res.contentType) entry.content = { [res.contentType]: { schema: { type: 'string' } } };
      responses[status] = entry;
    }
    if (r.auth !== 'none' && !responses['401']) {
      responses['401'] = {
        description: 'Missing or wrong bearer token',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    op.responses = responses;
    paths[openapiPath(r.url)] ??= {};
    paths[openapiPath(r.url)]![r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portier admin API',
      version: info.version,
      description:
        'Local operator API of a Portier gateway. Authenticate with `Authorization: Bearer <token>`; the token is in ' +
        '`<state_dir>/admin-token` (mode 0600). Errors are `{"error":{"code","message","problems"?}}`.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: jsonSchema(errorSchema, 'output'),
      },
    },
  };
}
