// Who may see what (the policy of the security model, README, "Security model"). One
// pure function over the principal (from its credential) and what a route is about to
// serve (the route's own description, made before any data is read). The tests do not
// read this table: they state the expected outcome of every role x endpoint by hand.
import type { AccessRequest, Resource } from '../hooks.ts';
import { involvesOrg } from '../hooks.ts';
import type { Principal, Role } from './credentials.ts';

/** Roles allowed each resource outright (partners: see decide()). */
export const ROLE_ACCESS: Record<Resource, readonly Role[]> = {
  meta: ['evaluator', 'staff', 'partner', 'admin'],
  aggregate: ['evaluator', 'staff', 'partner'],
  operational: ['evaluator', 'admin'],
  partner_comparison: ['evaluator', 'staff'],
  partner: ['evaluator', 'staff'],
  report: ['evaluator', 'staff'],
  export: ['evaluator'],
  admin: ['admin'],
};

export type Decision = { allow: true; narrowTo?: string } | { allow: false; reason: string };

const deny = (reason: string): Decision => ({ allow: false, reason });

/** What a resource is, in a refusal's words. */
const WHAT: Record<Resource, string> = {
  meta: 'the catalog',
  aggregate: 'aggregate figures',
  operational: 'operational counts',
  partner_comparison: 'comparisons between organizations',
  partner: 'partner outputs',
  report: 'the metric report',
  export: 'exports of the results table',
  admin: 'administration',
};

/** The organization part of a group value of a dimension that cuts by organization. */
export function orgOfGroup(dimension: string, group: string): string | undefined {
  const i = dimension.split('*').indexOf('target_org_id');
  return i < 0 ? undefined : group.split('*')[i];
}

export function decide(p: Principal, a: AccessRequest): Decision {
  // A state-changing operation (e.g. triggering a run: `params.action`) is for admins only, whatever the resource.
  const action = a.params?.action;
  if (typeof action === 'string' && p.role !== 'admin') return deny(`only an admin may ${action.replaceAll('_', ' ')}`);
  if (p.role !== 'partner') return ROLE_ACCESS[a.resource].includes(p.role) ? { allow: true } : deny(`the ${p.role} role has no access to ${WHAT[a.resource]}`);
  // A partner: its organization comes from its credential, never from the request.
  const own = p.org;
  if (!own) return deny('this partner credential is bound to no organization');
  if (a.org !== undefined && a.org !== own) return deny('another organization\'s outputs');
  if (a.resource === 'partner') return a.org === own ? { allow: true, narrowTo: own } : deny('partner outputs of no named organization');
  const params = a.params ?? {};
  const dimension = typeof params.dimension === 'string' ? params.dimension : undefined;
  if (a.resource === 'partner_comparison' || involvesOrg(dimension)) {
    if (!a.narrowable) return deny('comparisons between organizations are not available to partners');
    if (dimension && involvesOrg(dimension) && typeof params.group === 'string' && orgOfGroup(dimension, params.group) !== own) {
      return deny('another organization\'s figures');
    }
    return { allow: true, narrowTo: own };
  }
  if (a.resource === 'meta' || a.resource === 'aggregate') return { allow: true, narrowTo: own };
  return deny(`the partner role has no access to ${WHAT[a.resource]}`);
}

/** The resource a dashboard page shows (the navigation offers a role only the pages it may open). */
export function pageResource(pageId: string): Resource {
  return pageId === 'data-quality' ? 'operational' : pageId === 'dictionary' ? 'meta' : 'aggregate';
}
