// Credentials: random tokens and session ids, and the one hash that is ever stored of
// them. Tokens carry 256 bits of randomness, so a plain SHA-256 is enough to store them
// (nothing to brute-force, unlike a password) and lets a request be matched by a map
// lookup on the hash instead of a comparison per user.
import * as crypto from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';

/** Node's one-shot hash (20.12 and later; cheaper than a Hash object per call), else createHash. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export const ROLES = ['evaluator', 'staff', 'partner', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** `cl_` and 32 random bytes in base64url (43 characters): 256 bits. */
export const TOKEN_PATTERN = /^cl_[A-Za-z0-9_-]{43}$/;
/** Session ids: 32 random bytes in base64url. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return `cl_${randomBytes(32).toString('base64url')}`;
}

export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Hex(s: string): string {
  return oneShotHash ? oneShotHash('sha256', s, 'hex') : createHash('sha256').update(s, 'utf8').digest('hex');
}

/** Who is asking: the identity every authorization decision and log line is about. */
export interface Principal {
  user_id: string;
  name: string;
  role: Role;
  /** The organization a partner is bound to (from its credential only); null for the other roles. */
  org: string | null;
  via: 'session' | 'bearer';
}
