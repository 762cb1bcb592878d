// Where access control plugs in (server/auth/security.ts builds the real hooks; createApp
// installs them unless told `security: false`, which only the tests of these plug points do):
//
// - authenticate: ONE middleware, run before every page and every /api route (static
//   assets and the vendored chart libraries are mounted before it and carry no data).
// - authorize: called by each route with what it is about to serve, after its parameters
//   are validated and before any data is read; throw an HttpError (403/404) to refuse.
//   It may return a Grant: `narrowTo` names the one organization the output must be
//   narrowed to (a partner's own), and the route then leaves out every other
//   organization's figures and names and every statistic comparing organizations.
// - onDownload: called for every download with its file name, row count and SHA-256
//   before the first byte is sent (the audit trail).
// - routes: extra routes mounted after authenticate (sign-in pages, users, audit).
import type { Express, Request, RequestHandler } from 'express';
import type { DownloadHook } from './exports/downloads.ts';

export type Resource =
  /** Catalog, dictionary, filter options, run id: what the figures are, no figures. */
  | 'meta'
  /** Aggregate dashboards and their JSON (results, overview, charts). */
  | 'aggregate'
  /** Pipeline operational counts (runs, load report, freshness): admins and evaluators only. */
  | 'operational'
  /** Figures that compare partner organizations with each other (scorecards, target_org_id cuts). */
  | 'partner_comparison'
  /** One organization's own outputs (gap analysis, scorecard); `org` says which. */
  | 'partner'
  /** The metric report (workbook and CSV) for ACO/Medicaid staff and evaluators. */
  | 'report'
  /** Tabular exports of the results table. */
  | 'export'
  /** Users and the audit log. */
  | 'admin';

export interface AccessRequest {
  resource: Resource;
  /** The organization the request is about (partner resources). */
  org?: string;
  /**
   * The validated parameters (e.g. dimension=target_org_id on a results read). A string
   * `action` marks a state-changing operation (e.g. `trigger_run`): admins only.
   */
  params?: Record<string, unknown>;
  /**
   * The route can narrow its output to one organization (its own rows plus the area's,
   * comparison statistics withheld), so a partner may be let in with a Grant.
   */
  narrowable?: boolean;
}

export interface Grant {
  /** Narrow the output to this organization (see above); undefined: no narrowing. */
  narrowTo?: string;
}

export interface ServerHooks {
  authenticate?: RequestHandler;
  authorize?: (req: Request, access: AccessRequest) => void | Grant | Promise<void | Grant>;
  onDownload?: DownloadHook;
  routes?: (app: Express) => void;
}

/** A dimension that cuts by partner organization (one-way or part of a two-way cut). */
export function involvesOrg(dimension: string | undefined): boolean {
  return typeof dimension === 'string' && dimension.split('*').includes('target_org_id');
}

/** The resource a results read touches: comparisons between organizations when cut by them. */
export function resultsResource(dimension: string | undefined): Resource {
  return involvesOrg(dimension) ? 'partner_comparison' : 'aggregate';
}
