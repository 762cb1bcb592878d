// The audit trail and the access log: append-only JSON Lines under <store>/state/.
//
// - audit.jsonl: sign-in (success and failure), sign-out, authorization refusals, every
//   download (written and flushed to disk BEFORE its first byte is sent; a write that
//   fails stops the download), and user changes made with the CLI.
// - access.jsonl: one line per request: time, user id, role, method, path, status,
//   duration. Never a query string, a body, a token, a cookie or a session id.
//
// Appends from one process are serialized (lines never interleave); the CLI appends to
// the same file with O_APPEND, one write per line.
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/** Anything shaped like an access token, wherever a careless client put it (a path, a parameter), is blanked. */
export function redact(s: string): string {
  return s.replace(/cl_[A-Za-z0-9_-]{20,}/g, 'cl_[redacted]');
}

/** Parameters as logged: short scalar values only (a parameter is never a body). */
export function loggableParams(p: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!p) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (typeof v === 'string') out[k] = redact(v.length > 120 ? `${v.slice(0, 120)}…` : v);
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[k] = v;
    else out[k] = '[value]';
  }
  return out;
}

/** Append one audit line and flush it to disk (for the CLI; the server uses AuditLog). */
export async function appendAudit(stateDir: string, r: Omit<AuditRecord, 'time'> & { time?: string }) {
  await mkdir(stateDir, { recursive: true });
  const fh = await open(auditPath(stateDir), 'a', 0o600);
  try {
    await fh.write(`${JSON.stringify({ time: new Date().toISOString(), ...r })}\n`);
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
    this.ready = mkdir(stateDir, { recursive: true }).then(() => undefined);
  }

  /** Append an audit record; resolves once it is on disk (rejects if it could not be written). */
  audit(r: Omit<AuditRecord, 'time'>): Promise<void> {
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...r })}\n`;
    const write = this.auditChain.then(async () => {
      await this.ready;
      const fh = await open(auditPath(this.stateDir), 'a', 0o600);
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
    this.accessLines.push(JSON.stringify(r));
    this.scheduleAccess();
  }

  private scheduleAccess() {
    if (this.accessFlush) return;
    this.accessFlush = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        const lines = this.accessLines;
        this.accessLines = [];
        await this.ready;
        await appendFile(accessPath(this.stateDir), `${lines.join('\n')}\n`, { mode: 0o600 });
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
