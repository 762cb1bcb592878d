// Where access control plugs in (the security issue builds on these; the defaults let
// everything through, which is only acceptable for the local, 127.0.0.1-bound demo):
//
// - authenticate: ONE middleware, run before every page and every /api route (static
//   assets and the vendored chart libraries are mounted before it and carry no data).
// - authorize: called by each route with what it is about to serve, after its parameters
//   are validated and before any data is read; throw an HttpError (403/404) to refuse.
// - onDownload: called for every download with its file name, row count and SHA-256
//   before the first byte is sent (the audit trail).
// - routes: extra routes mounted after authenticate (sign-in pages, users, audit).
import type { Express, Request, RequestHandler } from 'express';
import type { DownloadHook } from './exports/downloads.ts';

export type Resource =
  /** Aggregate dashboards and their JSON (results, overview, charts). */
  | 'aggregate'
  /** Pipeline operational counts (runs, load report, freshness): admins and evaluators only. */
  | 'operational'
  /** Figures that compare partner organizations with each other (scorecards, target_org_id cuts). */
  | 'partner_comparison'
  /** One organization's own outputs (gap analysis, scorecard); `org` says which. */
  | 'partner'
  /** Tabular exports and the metric report. */
  | 'export';

export interface AccessRequest {
  resource: Resource;
  /** The organization the request is about (partner resources). */
  org?: string;
  /** The validated parameters (e.g. dimension=target_org_id on a results read). */
  params?: Record<string, unknown>;
}

export interface ServerHooks {
  authenticate?: RequestHandler;
  authorize?: (req: Request, access: AccessRequest) => void | Promise<void>;
  onDownload?: DownloadHook;
  routes?: (app: Express) => void;
}

/** The resource a results read touches: comparisons between organizations when cut by them. */
export function resultsResource(dimension: string | undefined): Resource {
  return dimension === 'target_org_id' ? 'partner_comparison' : 'aggregate';
}
