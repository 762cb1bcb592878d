// The sign-in page and the admin page: server-rendered HTML with every interpolated
// value escaped, no inline script or style (the strict CSP applies to them too). The
// sign-in page's one script (/static/js/signin.js) moves a token from the link's
// fragment (#token=..., which never reaches the server or its logs) into the form and
// posts it.
import { esc } from '../../dashboards/pages/html.ts';
import { escapeControls, quoted, type AccessRecord, type AuditRecord } from './audit.ts';
import type { publicUser } from './users.ts';

function shell(title: string, body: string, opts: { script?: string; nav?: string } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>${esc(title)} · closeloop</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/css/app.css">${opts.script ? `\n  <script type="module" src="${esc(opts.script)}"></script>` : ''}
</head>
<body data-page="${esc(title.toLowerCase().replaceAll(' ', '-'))}">
  <header class="topbar">
    <div class="brand"><a href="/">closeloop</a><span class="tagline">outcomes of coordinated health and social care</span></div>${opts.nav ?? ''}
  </header>
  <main id="main">
${body}
  </main>
</body>
</html>
`;
}

const ERROR_TITLES: Record<number, string> = { 400: 'This address is not valid', 403: 'Not yours to open', 404: 'No such page', 500: 'Something went wrong' };

/**
 * The page a browser gets for an error (the API answers JSON): what happened in words, the
 * server's message (already safe to show: no stack or path in production), and a way on.
 */
export function errorPage(o: { status: number; message: string }): string {
  const title = ERROR_TITLES[o.status] ?? (o.status >= 500 ? ERROR_TITLES[500]! : 'This request cannot be served');
  const hint = o.status === 403
    ? 'Your role or organization does not give access to this page. The pages you may open are in the navigation of the overview.'
    : o.status === 404
      ? 'The address may be mistyped, or the page may have moved.'
      : o.status >= 500
        ? 'The server could not answer this request; it has been logged. Try again in a moment, and tell an administrator if it keeps happening.'
        : 'Check the address, or start again from the overview.';
  return shell(title, `    <section class="card signin error-page" data-status="${o.status}">
      <h1>${esc(title)}</h1>
      <p class="intro">Error ${o.status}: ${esc(o.message)}</p>
      <p>${esc(hint)}</p>
      <p><a class="button" href="/">Go to the overview</a> <a class="button secondary" href="/dictionary">Metric dictionary</a></p>
    </section>`);
}

export function signinPage(o: { next: string; error?: string; status?: string }): string {
  return shell('Sign in', `    <section class="card signin">
      <h1>Sign in</h1>
      <p class="intro">Paste the access token you were given (it starts with <code>cl_</code>). A sign-in link opens this page and signs you in by itself.</p>${o.error ? `\n      <p class="status error" role="alert">${esc(o.error)}</p>` : ''}${o.status ? `\n      <p class="status" role="status">${esc(o.status)}</p>` : ''}
      <form method="post" action="/signin" data-signin autocomplete="off">
        <input type="hidden" name="next" value="${esc(o.next)}">
        <label class="field">Access token <input type="password" name="token" required maxlength="200" spellcheck="false" autocomplete="off"></label>
        <button type="submit" class="button">Sign in</button>
      </form>
      <p class="intro">Sessions end after a while without activity, and when you sign out. Every sign-in and every download is recorded in the audit log.</p>
    </section>`, { script: '/static/js/signin.js' });
}

type PublicUser = ReturnType<typeof publicUser>;

export interface AdminView {
  users: PublicUser[];
  audit: AuditRecord[];
  access: AccessRecord[];
  filter: { since?: string; user?: string; kind?: string; limit: number };
  kinds: readonly string[];
  me: { name: string };
}

const td = (v: unknown) => `<td>${esc(v ?? '')}</td>`;

function auditDetail(r: AuditRecord): string {
  const parts: string[] = [];
  if (r.reason) parts.push(r.reason);
  if (r.resource) parts.push(`resource ${r.resource}${r.requested_org ? ` (org ${r.requested_org})` : ''}`);
  if (r.filename) parts.push(`${r.filename}: ${r.rows ?? 0} rows, ${r.bytes ?? 0} bytes, sha256 ${String(r.sha256 ?? '').slice(0, 16)}…`);
  if (r.params && Object.keys(r.params).length) parts.push(Object.entries(r.params).map(([k, v]) => `${k}=${quoted(v)}`).join(' '));
  if (r.fetch) parts.push(`Sec-Fetch ${quoted(r.fetch)}`);
  if (r.unknown_params) parts.push(`${r.unknown_params} unknown parameter${r.unknown_params === 1 ? '' : 's'}`);
  if (r.target_user_id) parts.push(`${r.target_name ?? ''} (${r.target_user_id}, ${r.target_role ?? ''}${r.target_org ? ` ${r.target_org}` : ''})${r.actor ? ` by ${r.actor}` : ''}`);
  return parts.join('; ');
}

export function adminPage(v: AdminView): string {
  const users = v.users.map((u) => `<tr>${td(u.id)}${td(u.name)}${td(u.role)}${td(u.org_id ?? '')}${td(u.status)}${td(u.created_at)}${td(u.expires_at ?? 'never')}${td(u.revoked_at ?? '')}</tr>`).join('\n');
  const audit = [...v.audit].reverse().map((r) => `<tr>${td(r.time)}${td(r.kind)}${td(r.outcome)}${td(r.user_name ?? r.user_id ?? '')}${td(r.role ?? '')}${td(r.org ?? '')}${td(escapeControls(r.path ?? ''))}${td(auditDetail(r))}</tr>`).join('\n');
  const access = [...v.access].reverse().map((r) => `<tr>${td(r.time)}${td(r.user_id ?? '')}${td(r.role ?? '')}${td(r.method)}${td(escapeControls(r.path))}${td(r.status)}${td(r.duration_ms)}</tr>`).join('\n');
  const kindOptions = ['', ...v.kinds].map((k) => `<option value="${esc(k)}"${k === (v.filter.kind ?? '') ? ' selected' : ''}>${esc(k || 'any')}</option>`).join('');
  const nav = `\n    <div class="session"><span>${esc(v.me.name)} (admin)</span> <a class="topbar-link" href="/data-quality">Data quality and runs</a> <form method="post" action="/signout" class="signout"><button type="submit" class="button secondary">Sign out</button></form></div>`;
  return shell('Administration', `    <div class="page-head">
      <h1>Administration</h1>
      <p class="lede">Users and their access, and the audit trail: sign-ins, refusals and every download. Users are added and revoked with <code>closeloop users add|revoke</code>; tokens are shown once, when made, and only their SHA-256 is kept.</p>
    </div>
    <section class="card wide">
      <h2>Users</h2>
      <div class="table-wrap"><table class="data">
        <thead><tr><th>Id</th><th>Name</th><th>Role</th><th>Organization</th><th>Status</th><th>Created</th><th>Expires</th><th>Revoked</th></tr></thead>
        <tbody>
${users}
        </tbody>
      </table></div>
    </section>
    <section class="card wide">
      <h2>Audit log</h2>
      <form class="filters" method="get" action="/admin" aria-label="Audit filters">
        <label>Since <input type="text" name="since" value="${esc(v.filter.since ?? '')}" placeholder="YYYY-MM-DD"></label>
        <label>User <input type="text" name="user" value="${esc(v.filter.user ?? '')}" placeholder="id or name"></label>
        <label>Kind <select name="kind">${kindOptions}</select></label>
        <label>Newest <input type="number" name="limit" min="1" max="5000" value="${esc(v.filter.limit)}"></label>
        <button type="submit" class="button">Show</button>
      </form>
      <div class="table-wrap"><table class="data">
        <thead><tr><th>Time</th><th>Kind</th><th>Outcome</th><th>User</th><th>Role</th><th>Organization</th><th>Path</th><th>Detail</th></tr></thead>
        <tbody>
${audit || '<tr><td colspan="8">No records.</td></tr>'}
        </tbody>
      </table></div>
    </section>
    <section class="card wide">
      <h2>Access log (newest ${esc(v.access.length)})</h2>
      <div class="table-wrap"><table class="data">
        <thead><tr><th>Time</th><th>User</th><th>Role</th><th>Method</th><th>Path</th><th>Status</th><th>ms</th></tr></thead>
        <tbody>
${access || '<tr><td colspan="7">No records.</td></tr>'}
        </tbody>
      </table></div>
    </section>`, { nav });
}
