// HTTP plumbing shared by every route: errors as JSON, or as a page for a browser (never a
// stack trace or a path in production), 404s for unknown API paths, and parameter validation with zod that names
// the parameter and what it accepts.
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { errorPage } from './auth/pages.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) => new HttpError(400, message, details);
export const notFound = (message: string, details?: Record<string, unknown>) => new HttpError(404, message, details);

/** A readable sentence for the first problem zod found, naming the parameter. */
export function describeIssue(issue: z.core.$ZodIssue, where: string): string {
  const name = issue.path.length ? issue.path.join('.') : where;
  switch (issue.code) {
    case 'invalid_value':
      return `parameter '${name}' must be one of ${issue.values.map(String).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown ${where} parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_type':
      return issue.input === undefined ? `parameter '${name}' is required` : `parameter '${name}' must be a single ${issue.expected} value`;
    default:
      return `parameter '${name}': ${issue.message}`;
  }
}

/**
 * Parse query or path parameters with a strict zod object schema (unknown parameters are
 * an error, not silently ignored, so a typo never returns unfiltered data).
 */
export function parseParams<S extends z.ZodType>(schema: S, input: unknown, where: 'query' | 'path' | 'body' = 'query'): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const got = issue.path.length && input && typeof input === 'object' ? (input as Record<string, unknown>)[String(issue.path[0])] : undefined;
  const shown = typeof got === 'string' ? ` (got '${got.length > 60 ? `${got.slice(0, 60)}…` : got}')` : Array.isArray(got) ? ' (given more than once)' : '';
  throw badRequest(`${describeIssue(issue, where)}${shown}`, { parameter: issue.path.join('.') || undefined });
}

// Reusable parameter schemas.
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'must be a real calendar date');
/** Identifiers of metrics, dimensions, groups, organizations: no paths, no markup. */
export const token = (max = 64) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_.*+-]+$/, 'may contain letters, digits and _ . * + - only');

export function apiNotFound(req: Request, _res: Response, next: NextFunction) {
  next(notFound(`no such API endpoint: ${req.method} ${req.baseUrl}${req.path}; see GET /api for the list`));
}

export function errorHandler(opts: { production: boolean; log?: (line: string) => void }): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = err as { status?: number; statusCode?: number; type?: string; expose?: boolean };
    let status = err instanceof HttpError ? err.status : (e.status ?? e.statusCode ?? 500);
    if (status < 400 || status > 599) status = 500;
    // Errors from express itself (body too large, malformed URL) carry a status and a safe message.
    let message = err instanceof HttpError || (e.expose && status < 500 && status !== 404) ? (err as Error).message : status < 500 ? (STATUS_CODES[status] ?? 'error').toLowerCase() : 'internal error';
    if (status === 500 && !opts.production) message = `internal error: ${(err as Error)?.message ?? String(err)}`;
    if (status >= 500) opts.log?.(`${req.method} ${req.originalUrl}: ${(err as Error)?.stack ?? String(err)}`);
    // A browser asking for a page gets a page; the API (and any client preferring JSON) gets JSON.
    if (!req.originalUrl.startsWith('/api') && req.method === 'GET' && req.accepts(['json', 'html']) === 'html') {
      res.status(status).type('html').send(errorPage({ status, message }));
      return;
    }
    const body: Record<string, unknown> = { error: message, status };
    if (err instanceof HttpError && err.details) Object.assign(body, err.details);
    res.status(status).type('application/json').send(JSON.stringify(body));
  };
}
