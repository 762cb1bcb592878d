// The `closeloop users` and `closeloop audit` commands (pipelines/cli.ts dispatches to
// these), and the demo evaluator of `closeloop start`. They work on the control state
// files while the server runs: users.json is replaced atomically under a lock, the
// audit log is appended to.
import { userInfo } from 'node:os';
import { storePaths } from '../../pipelines/store.ts';
import { accessPath, appendAudit, AUDIT_KINDS, auditPath, escapeControls, jsonLine, quoted, readLog, type AccessRecord, type AuditRecord } from './audit.ts';
import { ROLES, type Role } from './credentials.ts';
import { addUser, listUsers, publicUser, revokeUser, rotateToken, UserError, userStatus, type UserRecord } from './users.ts';

export { UserError };

const DAY = 86_400_000;
export const DEFAULT_TOKEN_DAYS = 90;
export const DEMO_EVALUATOR = 'demo-evaluator';

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

const isIsoDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);

/** --expires YYYY-MM-DD (valid through that day, UTC) or --days N; default DEFAULT_TOKEN_DAYS days. */
export function expiryFrom(o: { expires?: string; days?: string }, now = new Date()): string {
  if (o.expires !== undefined && o.days !== undefined) throw new UserError('give --expires or --days, not both');
  if (o.expires !== undefined) {
    if (!isIsoDate(o.expires)) throw new UserError(`--expires must be a date YYYY-MM-DD, got "${o.expires}"`);
    return new Date(Date.parse(`${o.expires}T00:00:00Z`) + DAY).toISOString();
  }
  const days = o.days ?? String(DEFAULT_TOKEN_DAYS);
  if (!/^\d{1,5}$/.test(days) || Number(days) < 1) throw new UserError(`--days must be a whole number of days above 0, got "${days}"`);
  return new Date(now.getTime() + Number(days) * DAY).toISOString();
}

function describe(u: UserRecord): string {
  return `${u.id} "${u.name}" (${u.role}${u.org_id ? `, organization ${u.org_id}` : ''})`;
}

async function auditUserChange(stateDir: string, outcome: 'added' | 'revoked' | 'token_rotated', u: UserRecord) {
  await appendAudit(stateDir, {
    kind: 'user', outcome, user_id: null, role: null, org: null, actor: actor(),
    target_user_id: u.id, target_name: u.name, target_role: u.role, target_org: u.org_id, expires_at: u.expires_at,
  });
}

function printToken(out: (l: string) => void, token: string) {
  out('Token (shown this once; only its SHA-256 is kept, so keep it somewhere safe):');
  out(`  ${token}`);
  out('Browser: open http://127.0.0.1:8080/signin and paste it (or /signin#token=<token>).');
  out('API:     curl -H "Authorization: Bearer <token>" http://127.0.0.1:8080/api/metrics');
}

export interface UsersArgs {
  db: string;
  name?: string;
  role?: string;
  org?: string;
  expires?: string;
  days?: string;
  all?: boolean;
  json?: boolean;
}

/** `closeloop users add|list|revoke|rotate`; returns the exit code. */
export async function usersCommand(sub: string | undefined, who: string | undefined, a: UsersArgs, out: (l: string) => void = (l) => console.log(l)): Promise<number> {
  const stateDir = storePaths(a.db).stateDir;
  const now = new Date();
  switch (sub) {
    case 'add': {
      if (who) throw new UserError(`unexpected argument "${who}" (name the user with --name)`);
      if (!a.name) throw new UserError('--name is required');
      if (!a.role || !(ROLES as readonly string[]).includes(a.role)) throw new UserError(`--role must be one of ${ROLES.join(', ')}${a.role ? `, got "${a.role}"` : ''}`);
      const { user, token } = await addUser(stateDir, { name: a.name, role: a.role as Role, org: a.org, expiresAt: expiryFrom(a, now), createdBy: actor(), now });
      await auditUserChange(stateDir, 'added', user);
      out(`Added ${describe(user)}, expires ${user.expires_at}.`);
      printToken(out, token);
      return 0;
    }
    case 'rotate': {
      if (!who) throw new UserError('name the user: closeloop users rotate ID|NAME');
      const { user, token } = await rotateToken(stateDir, who, { expiresAt: a.expires !== undefined || a.days !== undefined ? expiryFrom(a, now) : undefined, now });
      await auditUserChange(stateDir, 'token_rotated', user);
      out(`New token for ${describe(user)}; the old one no longer works. Expires ${user.expires_at ?? 'never'}.`);
      printToken(out, token);
      return 0;
    }
    case 'revoke': {
      if (!who) throw new UserError('name the user: closeloop users revoke ID|NAME');
      const user = await revokeUser(stateDir, who, now);
      await auditUserChange(stateDir, 'revoked', user);
      out(`Revoked ${describe(user)}: its token and sessions stop working at once, on a running server too.`);
      return 0;
    }
    case 'list': {
      if (who) throw new UserError(`unexpected argument "${who}"`);
      const users = (await listUsers(stateDir)).filter((u) => a.all || userStatus(u, now) === 'active').map((u) => publicUser(u, now));
      if (a.json) {
        out(JSON.stringify(users, null, 2));
        return 0;
      }
      if (!users.length) {
        out(a.all ? 'No users yet: add one with closeloop users add --name N --role R.' : 'No active users (--all lists revoked and expired ones too).');
        return 0;
      }
      const rows = [['id', 'name', 'role', 'org', 'status', 'expires', 'created'], ...users.map((u) => [u.id, u.name, u.role, u.org_id ?? '', u.status, u.expires_at?.slice(0, 10) ?? 'never', u.created_at.slice(0, 10)])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
      return 0;
    }
    default:
      throw new UserError(`users needs a subcommand: add, list, revoke or rotate${sub ? ` (got "${sub}")` : ''}`);
  }
}

export interface AuditArgs {
  db: string;
  since?: string;
  user?: string;
  kind?: string;
  limit?: string;
  access?: boolean;
  json?: boolean;
}

/** Free text from a log record as printed: control characters escaped (a record can never print as two lines or reach the terminal as an escape sequence). */
const t = (v: unknown) => escapeControls(String(v ?? ''));

function detail(r: AuditRecord): string {
  const bits: string[] = [];
  if (r.reason) bits.push(t(r.reason));
  if (r.resource) bits.push(`resource=${t(r.resource)}${r.requested_org ? ` org=${quoted(r.requested_org)}` : ''}`);
  if (r.what) bits.push(`${t(r.what)} ${quoted(r.filename)} rows=${t(r.rows)} bytes=${t(r.bytes)}${r.sha256 ? ` sha256=${t(r.sha256)}` : ''}`);
  if (r.params && Object.keys(r.params).length) bits.push(Object.entries(r.params).map(([k, v]) => `${t(k)}=${quoted(v)}`).join(' '));
  if (r.unknown_params) bits.push(`unknown_params=${t(r.unknown_params)}`);
  if (r.fetch) bits.push(`fetch=${quoted(r.fetch)}`);
  if (r.target_user_id) bits.push(`${t(r.target_user_id)} ${quoted(r.target_name)} ${t(r.target_role)}${r.target_org ? ` ${t(r.target_org)}` : ''} by ${t(r.actor)}`);
  return bits.join('  ');
}

/** `closeloop audit`: the audit log (or with --access, the access log), filtered. */
export async function auditCommand(a: AuditArgs, out: (l: string) => void = (l) => console.log(l)): Promise<number> {
  const stateDir = storePaths(a.db).stateDir;
  if (a.since !== undefined && Number.isNaN(Date.parse(a.since.length === 10 ? `${a.since}T00:00:00Z` : a.since))) throw new UserError(`--since must be a date YYYY-MM-DD or an ISO timestamp, got "${a.since}"`);
  if (a.kind !== undefined && !(AUDIT_KINDS as readonly string[]).includes(a.kind)) throw new UserError(`--kind must be one of ${AUDIT_KINDS.join(', ')}, got "${a.kind}"`);
  if (a.kind !== undefined && a.access) throw new UserError('--kind applies to the audit log, not the access log');
  if (a.limit !== undefined && (!/^\d+$/.test(a.limit) || Number(a.limit) < 1)) throw new UserError(`--limit must be a whole number above 0, got "${a.limit}"`);
  const filter = { since: a.since, user: a.user, kind: a.kind, limit: a.limit ? Number(a.limit) : undefined };
  if (a.access) {
    const rows = await readLog<AccessRecord>(accessPath(stateDir), filter);
    for (const r of rows) out(a.json ? jsonLine(r) : `${t(r.time)}  ${t(r.user_id ?? '-').padEnd(18)} ${t(r.role ?? '-').padEnd(9)} ${t(r.method).padEnd(4)} ${t(r.status)} ${t(r.duration_ms).padStart(7)} ms  ${t(r.path)}`);
    if (!a.json && !rows.length) out('No access log records match.');
    return 0;
  }
  const rows = await readLog<AuditRecord>(auditPath(stateDir), filter);
  for (const r of rows) {
    out(a.json ? jsonLine(r) : `${t(r.time)}  ${t(r.kind).padEnd(13)} ${t(r.outcome).padEnd(9)} ${t(r.user_name ?? r.user_id ?? '-').padEnd(18)} ${t(r.role ?? '-').padEnd(9)} ${t(r.org ?? '-').padEnd(8)} ${t(r.path)}  ${detail(r)}`.trimEnd());
  }
  if (!a.json && !rows.length) out('No audit records match.');
  return 0;
}

/**
 * The demo evaluator of `closeloop start`: created on first start, given a fresh token on
 * every later start (tokens are kept only as hashes, so an old one cannot be shown again).
 */
export async function ensureDemoEvaluator(root: string, now = new Date()): Promise<{ token: string; user: UserRecord; created: boolean }> {
  const stateDir = storePaths(root).stateDir;
  const expiresAt = new Date(now.getTime() + 7 * DAY).toISOString();
  const existing = (await listUsers(stateDir)).find((u) => u.name === DEMO_EVALUATOR && u.role === 'evaluator' && userStatus(u, now) === 'active');
  if (existing) {
    const r = await rotateToken(stateDir, existing.id, { expiresAt, now });
    await auditUserChange(stateDir, 'token_rotated', r.user);
    return { ...r, created: false };
  }
  const r = await addUser(stateDir, { name: DEMO_EVALUATOR, role: 'evaluator', expiresAt, createdBy: 'closeloop start', now });
  await auditUserChange(stateDir, 'added', r.user);
  return { ...r, created: true };
}
