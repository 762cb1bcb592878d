// Browser sessions: held in memory and mirrored to <store>/state/sessions.json so a
// server restart does not sign everyone out. The file holds the SHA-256 of each session
// id, never the id itself (the id is only ever in the browser's cookie). A session ends
// after `idleMs` without a request, after `maxAgeMs` in any case, at sign-out, and as
// soon as its user is revoked or expires or its token is rotated (checked on every
// request: a session remembers which token it was started with).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../pipelines/store.ts';
import { newSessionId, SESSION_ID_PATTERN, sha256Hex } from './credentials.ts';

export interface SessionOptions {
  /** Idle time after which a session ends (default 30 minutes). */
  idleMs: number;
  /** Absolute lifetime of a session (default 12 hours). */
  maxAgeMs: number;
  /** Sessions kept at most (the least recently used go first). */
  maxSessions: number;
  /** Sessions of one user kept at most: a new sign-in ends that user's least recently used one (never another user's). */
  maxPerUser: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleMs: 30 * 60_000, maxAgeMs: 12 * 3600_000, maxSessions: 10_000, maxPerUser: 20 };

/** Which token a session was started with: a tag of the token's stored hash (a rotated token has another). */
export function credentialTag(tokenSha256: string): string {
  return sha256Hex(`session-credential:${tokenSha256}`).slice(0, 32);
}

const SessionRecord = z.strictObject({
  id_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  user_id: z.string(),
  credential: z.string().regex(/^[0-9a-f]{32}$/),
  created_at: z.number(),
  last_seen: z.number(),
});
type SessionRecord = z.infer<typeof SessionRecord>;
const SessionsFile = z.strictObject({ version: z.literal(2), sessions: z.array(SessionRecord) });

/** Persist a touch at most this often (a request's last_seen is kept in memory anyway). */
const TOUCH_PERSIST_MS = 60_000;

export class SessionStore {
  private sessions = new Map<string, SessionRecord>();
  private persistedSeen = new Map<string, number>();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  readonly path: string;

  constructor(
    stateDir: string,
    readonly opts: SessionOptions = DEFAULT_SESSION_OPTIONS,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.path = join(stateDir, 'sessions.json');
  }

  /** Sessions that survived a restart (expired ones are dropped). */
  async load(now = Date.now()) {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return;
    }
    const json = JSON.parse(text) as { version?: unknown };
    if (json.version === 1) {
      // Written before sessions remembered their token: which token started them is unknown, so they end.
      this.log(`${this.path} is from an earlier version (sessions not bound to a token): every session ends; sign in again`);
      return;
    }
    const parsed = SessionsFile.safeParse(json);
    if (!parsed.success) {
      this.log(`${this.path} is not a valid sessions file; starting with no sessions`);
      return;
    }
    for (const s of parsed.data.sessions) {
      if (this.live(s, now)) {
        this.sessions.set(s.id_sha256, s);
        this.persistedSeen.set(s.id_sha256, s.last_seen);
      }
    }
  }

  private live(s: SessionRecord, now: number): boolean {
    return now - s.last_seen < this.opts.idleMs && now - s.created_at < this.opts.maxAgeMs;
  }

  /** A new session for a user, bound to the token it signed in with (credentialTag); returns the id for the cookie (not kept anywhere else). */
  create(userId: string, credential: string, now = Date.now()): string {
    const id = newSessionId();
    const h = sha256Hex(id);
    // The map runs least recently used first: the user's oldest sessions go first.
    const mine = [...this.sessions.values()].filter((x) => x.user_id === userId);
    for (const old of mine.slice(0, Math.max(0, mine.length - this.opts.maxPerUser + 1))) this.forget(old.id_sha256);
    this.sessions.set(h, { id_sha256: h, user_id: userId, credential, created_at: now, last_seen: now });
    this.persistedSeen.set(h, now);
    while (this.sessions.size > this.opts.maxSessions) {
      const oldest = [...this.sessions.values()].reduce((a, b) => (b.last_seen < a.last_seen ? b : a));
      this.sessions.delete(oldest.id_sha256);
      this.persistedSeen.delete(oldest.id_sha256);
    }
    this.persist();
    return id;
  }

  /**
   * The session of a cookie value, touched (its idle clock restarts); null when unknown,
   * idle too long or too old (and then it is forgotten).
   */
  touch(id: string, now = Date.now()): { user_id: string; credential: string; created_at: number } | null {
    if (!SESSION_ID_PATTERN.test(id)) return null;
    const h = sha256Hex(id);
    const s = this.sessions.get(h);
    if (!s) return null;
    if (!this.live(s, now)) {
      this.forget(h);
      return null;
    }
    s.last_seen = now;
    // Re-insert: the map's order is least recently used first.
    this.sessions.delete(h);
    this.sessions.set(h, s);
    if (now - (this.persistedSeen.get(h) ?? 0) >= TOUCH_PERSIST_MS) {
      this.persistedSeen.set(h, now);
      this.persist();
    }
    return { user_id: s.user_id, credential: s.credential, created_at: s.created_at };
  }

  destroy(id: string) {
    if (!SESSION_ID_PATTERN.test(id)) return;
    this.forget(sha256Hex(id));
  }

  /** End every session of a user (revoked, expired). */
  destroyUser(userId: string) {
    let any = false;
    for (const [h, s] of this.sessions) {
      if (s.user_id === userId) {
        this.sessions.delete(h);
        this.persistedSeen.delete(h);
        any = true;
      }
    }
    if (any) this.persist();
  }

  private forget(h: string) {
    if (this.sessions.delete(h)) {
      this.persistedSeen.delete(h);
      this.persist();
    }
  }

  get size() {
    return this.sessions.size;
  }

  /** Write the file (serialized; several changes in a row are written once). */
  private persist() {
    if (this.dirty) return;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      this.dirty = false;
      const now = Date.now();
      const sessions = [...this.sessions.values()].filter((s) => this.live(s, now));
      try {
        await writeFileAtomic(this.path, `${JSON.stringify({ version: 2, sessions })}\n`);
      } catch (err) {
        this.log(`could not write ${this.path}: ${(err as Error).message}`);
      }
    });
  }

  /** Wait for pending writes (tests, shutdown). */
  flush(): Promise<void> {
    return this.writing;
  }
}
