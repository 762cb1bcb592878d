// The audit trail and the access log: append-only JSON Lines under <store>/state/.
//
// - audit.jsonl: sign-in (success and failure), sign-out, authorization refusals
//   (cross-site requests too), every download (written and flushed to disk BEFORE its
//   first byte is sent; a write that fails stops the download), and user changes made
//   with the CLI.
// - access.jsonl: one line per request: time, user id, role, method, path, status,
//   duration. Never a query string, a body, a token, a cookie or a session id.
//
// Every line is JSON with each control character escaped, and every text shown from it
// (closeloop audit, the admin page) escapes them again: a logged value can never print as
// a second record or reach a terminal as an escape sequence.
//
// Appends from one process are serialized (lines never interleave); the CLI appends to
// the same file with O_APPEND, one write per line.
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_DIR, PRIVATE_FILE } from '../../pipelines/store.ts';
import type { Role } from './credentials.ts';

export const AUDIT_KINDS = ['signin', 'signout', 'authorization', 'download', 'user'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditRecord {
  time: string;
  kind: AuditKind;
  /** success / failure (sign-in), denied (authorization), started / completed / aborted / failed (download), added / revoked / token_rotated (user). */
  outcome: string;
  user_id: string | null;
  user_name?: string | null;
  role: Role | null;
  org: string | null;
  ip?: string | null;
  method?: string;
  path?: string;
  status?: number;
  reason?: string;
  /** What was asked for: the resource and organization of an authorization decision. */
  resource?: string;
  requested_org?: string | null;
  params?: Record<string, unknown>;
  /** Parameters whose names no endpoint takes: counted, never stored. */
  unknown_params?: number;
  /** Cross-site refusals: the browser's Sec-Fetch-Site, -Mode and -Dest ("-" when absent). */
  fetch?: string;
  /** Downloads: what was sent. */
  what?: string;
  filename?: string;
  rows?: number;
  bytes?: number;
  sha256?: string;
  run_id?: string | null;
  /** CLI changes: who ran the command and which user it changed. */
  actor?: string;
  target_user_id?: string;
  target_name?: string;
  target_role?: Role;
  target_org?: string | null;
  expires_at?: string | null;
}

export interface AccessRecord {
  time: string;
  user_id: string | null;
  role: Role | null;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
}

export const auditPath = (stateDir: string) => join(stateDir, 'audit.jsonl');
export const accessPath = (stateDir: string) => join(stateDir, 'access.jsonl');

const TOKEN_LIKE = /cl_[A-Za-z0-9_-]{20,}/g;

/** Percent-decoding repeated until nothing changes (`%255F` -> `%5F` -> `_`); a malformed escape is decoded byte by byte. */
function decodeFully(s: string): string {
  let cur = s;
  for (;;) {
    let next: string;
    try {
      next = decodeURIComponent(cur);
    } catch {
      next = cur.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
    if (next === cur) return cur;
    cur = next;
  }
}

/**
 * Anything shaped like an access token, wherever a careless client put it (a path, a
 * parameter), is blanked, also when percent-encoded (once, twice, or character by
 * character): when the decoded text holds a token, the decoded text is kept, redacted.
 */
export function redact(s: string): string {
  const decoded = decodeFully(s);
  return (decoded.search(TOKEN_LIKE) >= 0 ? decoded : s).replace(TOKEN_LIKE, 'cl_[redacted]');
}

/**
 * The parameter names any endpoint takes. Only these are stored with their values; other
 * names (which a client chose freely: line breaks, escape sequences, a pasted token) are
 * only counted.
 */
export const KNOWN_PARAMS: ReadonlySet<string> = new Set([
  'metric', 'format', 'dimension', 'grain', 'period_start', 'from', 'to', 'group', 'chart', 'file', 'org', 'program', 'county',
  'domain', 'scale', 'measure', 'since', 'user', 'kind', 'limit', 'method', 'action', 'page', 'next',
]);

/** Parameters as logged: known names with short scalar values (a parameter is never a body); unknown names counted. */
export function loggableParams(p: Record<string, unknown> | undefined): { params?: Record<string, unknown>; unknown_params?: number } {
  if (!p) return {};
  const params: Record<string, unknown> = {};
  let unknown = 0;
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (!KNOWN_PARAMS.has(k)) unknown += 1;
    else if (typeof v === 'string') {
      const r = redact(v);
      params[k] = r.length > 120 ? `${r.slice(0, 120)}…` : r;
    } else if (typeof v === 'number' || typeof v === 'boolean' || v === null) params[k] = v;
    else params[k] = '[value]';
  }
  return unknown ? { params, unknown_params: unknown } : { params };
}

/**
 * Characters a terminal or a viewer acts on: C0 and C1 controls, DEL, the line and
 * paragraph separators, and the bidirectional overrides (which reorder what is shown).
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** One JSON line: JSON.stringify escapes C0 controls; the rest of CONTROLS are written as \u escapes too, so no log byte is a control character. */
export function jsonLine(r: unknown): string {
  return JSON.stringify(r).replace(CONTROLS, (c) => `\\u${hex(c, 4)}`);
}

const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Text for a terminal or a page: backslashes doubled, control characters written as escapes (\n, \r, \x1b, \u009b, \u202e). */
export function escapeControls(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(CONTROLS, (c) => NAMED_ESCAPES[c] ?? (c.charCodeAt(0) < 0x80 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** A value as printed: quoted, with control characters and quotes escaped. */
export function quoted(v: unknown): string {
  return typeof v === 'string' ? `"${escapeControls(v).replace(/"/g, '\\"')}"` : escapeControls(String(v));
}

/** Append one audit line and flush it to disk (for the CLI; the server uses AuditLog). */
export async function appendAudit(stateDir: string, r: Omit<AuditRecord, 'time'> & { time?: string }) {
  await mkdir(stateDir, { recursive: true, mode: PRIVATE_DIR });
  const fh = await open(auditPath(stateDir), 'a', PRIVATE_FILE);
  try {
    await fh.write(`${jsonLine({ time: new Date().toISOString(), ...r })}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

export class AuditLog {
  private auditChain: Promise<void> = Promise.resolve();
  private accessLines: string[] = [];
  private accessFlush: Promise<void> | null = null;
  private ready: Promise<void>;

  constructor(
    readonly stateDir: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.ready = mkdir(stateDir, { recursive: true, mode: PRIVATE_DIR }).then(() => undefined);
  }

  /** Append an audit record; resolves once it is on disk (rejects if it could not be written). */
  audit(r: Omit<AuditRecord, 'time'>): Promise<void> {
    const line = `${jsonLine({ time: new Date().toISOString(), ...r })}\n`;
    const write = this.auditChain.then(async () => {
      await this.ready;
      const fh = await open(auditPath(this.stateDir), 'a', PRIVATE_FILE);
      try {
        await fh.write(line);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    this.auditChain = write.catch((err: Error) => this.log(`audit log write failed: ${err.message}`));
    return write;
  }

  /** Queue an access line (written in batches; never blocks a response). */
  access(r: AccessRecord) {
    this.accessLines.push(jsonLine(r));
    this.scheduleAccess();
  }

  private scheduleAccess() {
    if (this.accessFlush) return;
    this.accessFlush = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        const lines = this.accessLines;
        this.accessLines = [];
        await this.ready;
        await appendFile(accessPath(this.stateDir), `${lines.join('\n')}\n`, { mode: PRIVATE_FILE });
      })
      .catch((err: Error) => this.log(`access log write failed: ${err.message}`))
      .finally(() => {
        this.accessFlush = null;
        if (this.accessLines.length) this.scheduleAccess();
      });
  }

  /** Wait until everything queued is written. */
  async flush() {
    await this.auditChain;
    while (this.accessFlush) await this.accessFlush;
  }
}

export interface AuditFilter {
  /** ISO date or timestamp: records at or after it. */
  since?: string;
  /** A user id or name. */
  user?: string;
  kind?: string;
  /** The newest N records (default all). */
  limit?: number;
}

/** Read a JSON Lines log, filtered; lines that are not JSON are skipped. */
export async function readLog<T extends { time: string; user_id?: string | null; user_name?: string | null; kind?: string; target_user_id?: string; target_name?: string }>(
  path: string,
  f: AuditFilter = {},
): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const since = f.since ? Date.parse(f.since.length === 10 ? `${f.since}T00:00:00Z` : f.since) : null;
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let r: T;
    try {
      r = JSON.parse(line) as T;
    } catch {
      continue;
    }
    if (since !== null && Date.parse(r.time) < since) continue;
    if (f.kind && r.kind !== f.kind) continue;
    if (f.user && r.user_id !== f.user && r.user_name !== f.user && r.target_user_id !== f.user && r.target_name !== f.user) continue;
    out.push(r);
  }
  return f.limit ? out.slice(-f.limit) : out;
}
