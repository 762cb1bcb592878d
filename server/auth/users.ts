// Users and their token hashes in <store>/state/users.json (architecture.md, "Control
// state"): JSON written atomically by the CLI (under a lock file, so two CLI commands
// never lose each other's change), read by the server, which re-reads it whenever the
// file changes (a stat per request), so `closeloop users add|revoke` takes effect on a
// running server at once. Only the SHA-256 of a token is ever written anywhere.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { PRIVATE_DIR, PRIVATE_FILE, writeFileAtomic } from '../../pipelines/store.ts';
import { newToken, ROLES, sha256Hex, TOKEN_PATTERN, type Principal, type Role } from './credentials.ts';

/** Organization ids as the published tables spell them (no paths, no markup). */
export const OrgId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.+-]+$/, 'may contain letters, digits and _ . + - only');
export const UserName = z.string().min(1).max(80).regex(/^[A-Za-z0-9][A-Za-z0-9 _.@+-]*$/, 'letters, digits, spaces and _ . @ + - (starting with a letter or digit)');

export const UserRecord = z.strictObject({
  id: z.string().regex(/^u_[0-9a-f]{16}$/),
  name: UserName,
  role: z.enum(ROLES),
  org_id: OrgId.nullable(),
  token_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  created_at: z.string(),
  created_by: z.string().max(120),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  token_rotated_at: z.string().nullable().default(null),
});
export type UserRecord = z.infer<typeof UserRecord>;

export const UsersFile = z.strictObject({ version: z.literal(1), users: z.array(UserRecord) });
export type UsersFile = z.infer<typeof UsersFile>;

export type UserStatus = 'active' | 'revoked' | 'expired';

export function userStatus(u: UserRecord, now: Date): UserStatus {
  if (u.revoked_at) return 'revoked';
  if (u.expires_at && Date.parse(u.expires_at) <= now.getTime()) return 'expired';
  return 'active';
}

export function principalOfUser(u: UserRecord, via: Principal['via']): Principal {
  return { user_id: u.id, name: u.name, role: u.role, org: u.org_id, via };
}

/** A user as listed: never the hash. */
export function publicUser(u: UserRecord, now: Date) {
  return { id: u.id, name: u.name, role: u.role, org_id: u.org_id, status: userStatus(u, now), created_at: u.created_at, created_by: u.created_by, expires_at: u.expires_at, revoked_at: u.revoked_at, token_rotated_at: u.token_rotated_at };
}

export class UserError extends Error {}

export type TokenCheck =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired'; user?: UserRecord };

/**
 * The users file as the server sees it: re-read when its inode, size or mtime changes
 * (the CLI replaces it by rename, so every write changes the inode).
 */
export class UserDirectory {
  private key = '';
  private byHash = new Map<string, UserRecord>();
  private byId = new Map<string, UserRecord>();
  private loading: Promise<void> | null = null;
  readonly path: string;

  constructor(readonly stateDir: string) {
    this.path = join(stateDir, 'users.json');
  }

  private async refresh() {
    const s = await stat(this.path).catch(() => null);
    const key = s ? `${s.ino}:${s.size}:${s.mtimeMs}` : 'none';
    if (key === this.key) return;
    const file = s ? await readUsersFile(this.path) : { version: 1 as const, users: [] };
    this.byHash = new Map(file.users.map((u) => [u.token_sha256, u]));
    this.byId = new Map(file.users.map((u) => [u.id, u]));
    this.key = key;
  }

  /** Up to date with the file (one stat; a read only when it changed). */
  async sync(): Promise<void> {
    this.loading ??= this.refresh().finally(() => {
      this.loading = null;
    });
    await this.loading;
  }

  async checkToken(token: string, now: Date): Promise<TokenCheck> {
    if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' };
    await this.sync();
    const user = this.byHash.get(sha256Hex(token));
    if (!user) return { ok: false, reason: 'unknown' };
    const status = userStatus(user, now);
    if (status !== 'active') return { ok: false, reason: status, user };
    return { ok: true, user };
  }

  /** The user behind a session, if still active (revocation and expiry apply to sessions too). */
  async activeUser(id: string, now: Date): Promise<UserRecord | null> {
    await this.sync();
    const u = this.byId.get(id);
    return u && userStatus(u, now) === 'active' ? u : null;
  }

  async list(): Promise<UserRecord[]> {
    await this.sync();
    return [...this.byId.values()];
  }
}

export async function readUsersFile(path: string): Promise<UsersFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, users: [] };
    throw err;
  }
  const parsed = UsersFile.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UserError(`${path}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  return parsed.data;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Read-modify-write of users.json under an exclusive lock file (stale when its PID is gone). */
async function withUsersLock<T>(stateDir: string, f: () => Promise<T>): Promise<T> {
  await mkdir(stateDir, { recursive: true, mode: PRIVATE_DIR });
  const lock = join(stateDir, 'users.json.lock');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await writeFile(lock, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), { flag: 'wx', mode: PRIVATE_FILE });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readFile(lock, 'utf8').then((t) => JSON.parse(t) as { pid: number }).catch(() => null);
      if (holder && !pidAlive(holder.pid)) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new UserError(`users.json is locked by another closeloop command (pid ${holder?.pid ?? '?'}); try again`);
      await sleep(25);
    }
  }
  try {
    return await f();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function writeUsers(path: string, file: UsersFile) {
  await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
}

export interface AddUser {
  name: string;
  role: Role;
  org?: string;
  /** Absolute expiry (ISO timestamp) or null for none. */
  expiresAt: string | null;
  createdBy: string;
  now?: Date;
}

/** Validate the combination of role and org (a partner is bound to exactly one organization). */
export function checkRoleOrg(role: Role, org: string | undefined) {
  if (role === 'partner' && !org) throw new UserError('a partner user needs --org ORG (the organization it may see)');
  if (role !== 'partner' && org) throw new UserError(`--org applies to partner users only (a ${role} sees no single organization)`);
  if (org) {
    const r = OrgId.safeParse(org);
    if (!r.success) throw new UserError(`--org ${r.error.issues[0]!.message}`);
  }
}

/** Add a user; returns the record and the token (shown once, never stored). */
export async function addUser(stateDir: string, a: AddUser): Promise<{ user: UserRecord; token: string }> {
  const name = UserName.safeParse(a.name);
  if (!name.success) throw new UserError(`--name ${name.error.issues[0]!.message}`);
  checkRoleOrg(a.role, a.org);
  const now = a.now ?? new Date();
  if (a.expiresAt && Date.parse(a.expiresAt) <= now.getTime()) throw new UserError('the expiry is in the past');
  const path = join(stateDir, 'users.json');
  return withUsersLock(stateDir, async () => {
    const file = await readUsersFile(path);
    if (file.users.some((u) => u.name === a.name && userStatus(u, now) === 'active')) {
      throw new UserError(`an active user named "${a.name}" exists already (revoke it first, or choose another name)`);
    }
    const token = newToken();
    const user: UserRecord = {
      id: `u_${randomBytes(8).toString('hex')}`,
      name: a.name,
      role: a.role,
      org_id: a.org ?? null,
      token_sha256: sha256Hex(token),
      created_at: now.toISOString(),
      created_by: a.createdBy,
      expires_at: a.expiresAt,
      revoked_at: null,
      token_rotated_at: null,
    };
    file.users.push(user);
    await writeUsers(path, file);
    return { user, token };
  });
}

/** Find a user by id or (active) name. */
function findUser(file: UsersFile, who: string, now: Date): UserRecord {
  const byId = file.users.find((u) => u.id === who);
  if (byId) return byId;
  const named = file.users.filter((u) => u.name === who);
  const active = named.filter((u) => userStatus(u, now) === 'active');
  if (active.length === 1) return active[0]!;
  if (named.length === 1) return named[0]!;
  if (named.length > 1) throw new UserError(`several users are named "${who}": use the id (closeloop users list)`);
  throw new UserError(`no user "${who}" (closeloop users list shows them)`);
}

export async function revokeUser(stateDir: string, who: string, now = new Date()): Promise<UserRecord> {
  const path = join(stateDir, 'users.json');
  return withUsersLock(stateDir, async () => {
    const file = await readUsersFile(path);
    const u = findUser(file, who, now);
    if (u.revoked_at) throw new UserError(`user ${u.id} (${u.name}) was revoked already, at ${u.revoked_at}`);
    u.revoked_at = now.toISOString();
    await writeUsers(path, file);
    return u;
  });
}

/** A new token for an existing user (the old one stops working at once). */
export async function rotateToken(stateDir: string, who: string, opts: { expiresAt?: string | null; now?: Date } = {}): Promise<{ user: UserRecord; token: string }> {
  const now = opts.now ?? new Date();
  const path = join(stateDir, 'users.json');
  return withUsersLock(stateDir, async () => {
    const file = await readUsersFile(path);
    const u = findUser(file, who, now);
    if (u.revoked_at) throw new UserError(`user ${u.id} (${u.name}) is revoked`);
    const token = newToken();
    u.token_sha256 = sha256Hex(token);
    u.token_rotated_at = now.toISOString();
    if (opts.expiresAt !== undefined) u.expires_at = opts.expiresAt;
    await writeUsers(path, file);
    return { user: u, token };
  });
}

export async function listUsers(stateDir: string): Promise<UserRecord[]> {
  return (await readUsersFile(join(stateDir, 'users.json'))).users;
}
