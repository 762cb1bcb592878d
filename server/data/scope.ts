// Narrowing an output to one organization (a partner's own; metrics.md, Disclosure
// control: "a partner never sees statistics that compare it with another named
// organization; its scorecard compares it with the area as a whole"). Rows cut by
// organization keep only the organization's own group, with every statistic that
// compares it with the reference group (another organization) withheld; rows of other
// cuts (area aggregates) pass unchanged.
import type { Row } from '../../models/duckdb.ts';
import { involvesOrg } from '../hooks.ts';
import { orgOfGroup } from '../auth/policy.ts';

/** Columns that compare a group with the reference group. */
export const COMPARISON_COLUMNS = [
  'reference_group', 'rate_difference', 'rd_ci_low', 'rd_ci_high', 'rate_ratio', 'rr_ci_low', 'rr_ci_high', 'p_value', 'q_value', 'disparity_flag',
  'disparity_flag_unadjusted',
] as const;

/** Result rows narrowed to one organization (unchanged when `org` is undefined). */
export function narrowResultRows<T extends Row>(rows: T[], org: string | undefined): T[] {
  if (org === undefined) return rows;
  const out: T[] = [];
  for (const r of rows) {
    const dim = String(r.dimension ?? '');
    if (!involvesOrg(dim)) {
      out.push(r);
      continue;
    }
    if (orgOfGroup(dim, String(r.group_value ?? '')) !== org) continue;
    const copy = { ...r } as Record<string, unknown>;
    for (const c of COMPARISON_COLUMNS) if (c in copy) copy[c] = null;
    out.push(copy as T);
  }
  return out;
}

/** Cache-key part for a narrowed view (so two organizations never share a cached body). */
export const scopeKey = (org: string | undefined) => (org === undefined ? '' : `@org:${org}`);

/** An organization list narrowed to one organization. */
export function narrowOrgs<T extends { org_id?: string; id?: string }>(orgs: T[], org: string | undefined): T[] {
  return org === undefined ? orgs : orgs.filter((o) => (o.org_id ?? o.id) === org);
}
