import type { z } from 'zod';
import { formatPath } from '../config/format-issues.js';
import { ErrorCode, isPortierError, PortierError, ProvisioningError } from '../core/errors.js';

/** One problem with a request, by field (`settings.relay_pin`, `limit`, `driver`); `(root)` for the whole value. */
export interface Problem {
  field: string;
  message: string;
}

/**
 * An admin API refusal: the HTTP status, a short stable reason code (`validation_failed`, `unauthorized`,
 * `not_found`, ...) and, for bad input, every problem by field. Rendered as `{error:{code,message,problems?}}`.
 */
export class ApiError extends PortierError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly problems?: Problem[],
  ) {
    super(status === 401 ? ErrorCode.AdminUnauthorized : ErrorCode.AdminBadRequest, message, { reason, status });
  }
}

/** Problems from zod issues, with paths written as the config loader writes them (`settings.relay_pin`). */
export function problemsOf(issues: readonly z.core.$ZodIssue[], prefix: ReadonlyArray<PropertyKey> = []): Problem[] {
  return issues.flatMap((i) =>
    // An unknown key is a problem of that key: name it as the field, so a form can show it where it was typed.
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: formatPath([...prefix, ...i.path, k]), message: 'unknown key' }))
      : [{ field: formatPath([...prefix, ...i.path]), message: describe(i) }],
  );
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return issue.message.replace(/^Invalid input: /, '');
}

/** Validate one part of a request; a failure is a 400 naming every bad field. */
export function parsePart<S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: 'body' | 'query' | 'path',
): z.output<S> {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const problems = problemsOf(res.error.issues);
  const first = problems[0];
  throw new ApiError(
    400,
    'validation_failed',
    `invalid ${part}${first ? `: ${first.field}: ${first.message}` : ''}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
    problems,
  );
}

/**
 * Provisioning writes problems as `field: message` relative to the device (`relay_pin: ...`, `id: ...`); the API
 * names driver settings under `settings.` so a form can put each message next to its input.
 */
export function provisioningProblems(lines: readonly string[]): Problem[] {
  return lines.flatMap((line) => {
    const at = line.indexOf(': ');
    const field = at > 0 ? line.slice(0, at) : '(root)';
    const message = at > 0 ? line.slice(at + 2) : line;
    if (field === 'id' || field === 'driver' || field === 'name') return [{ field, message }];
    if (field === '(root)') {
      // `unknown keys "a", "b"` at the root of the settings: one problem per key, named as its field
      const keys = /^unknown keys? (.+)$/.exec(message)?.[1]?.match(/"[^"]*"/g);
      if (keys) return keys.map((k) => ({ field: `settings.${k.slice(1, -1)}`, message: 'unknown key' }));
      return [{ field: 'settings', message }];
    }
    return [{ field: `settings.${field}`, message }];
  });
}

/** The HTTP answer for anything a handler threw: known refusals keep their status; the rest is a 500. */
export function toHttpError(err: unknown): { status: number; code: string; message: string; problems?: Problem[] } {
  if (err instanceof ApiError) {
    return err.problems
      ? { status: err.status, code: err.reason, message: err.message, problems: err.problems }
      : { status: err.status, code: err.reason, message: err.message };
  }
  if (err instanceof ProvisioningError) {
    const problems = provisioningProblems(err.problems);
    const first = problems[0];
    return {
      status: 400,
      code: 'validation_failed',
      message: `invalid device${first ? `: ${first.field}: ${first.message}` : ''}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
      problems,
    };
  }
  if (isPortierError(err)) {
    switch (err.code) {
      case ErrorCode.DeviceNotFound:
        return { status: 404, code: 'not_found', message: err.message };
      case ErrorCode.DeviceConfigInvalid:
      case ErrorCode.DeviceUnknownDriver:
      case ErrorCode.AccessKeyInvalid:
      case ErrorCode.AccessMalformed:
        return { status: 400, code: 'validation_failed', message: err.message };
      case ErrorCode.DeviceCommandFailed:
        return { status: 409, code: 'command_failed', message: err.message };
      default:
        break;
    }
  }
  // Fastify's own refusals (bad JSON, wrong content type, body too large) carry a 4xx statusCode and a code.
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: fastifyReason(String(e.code ?? '')), message: String(e.message ?? '') };
  }
  return { status: 500, code: 'internal', message: 'internal error (see the gateway log)' };
}

const FASTIFY_REASONS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

function fastifyReason(code: string): string {
  if (FASTIFY_REASONS[code]) return FASTIFY_REASONS[code];
  if (/JSON/i.test(code)) return 'bad_json';
  return 'bad_request';
}
