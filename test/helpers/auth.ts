// Test helpers for the security layer: users made straight in a store's control state
// (as `closeloop users add` makes them), and supertest requests that send their token.
import request from 'supertest';
import type { App } from '../../server/app.ts';
import type { Role } from '../../server/auth/credentials.ts';
import { addUser } from '../../server/auth/users.ts';
import { storePaths } from '../../pipelines/store.ts';

export interface TestUser {
  id: string;
  name: string;
  role: Role;
  org: string | null;
  token: string;
}

let counter = 0;

export async function addTestUser(root: string, role: Role, o: { org?: string; name?: string; days?: number } = {}): Promise<TestUser> {
  counter += 1;
  const name = o.name ?? `test-${role}-${counter}`;
  const expiresAt = new Date(Date.now() + (o.days ?? 1) * 86_400_000).toISOString();
  const { user, token } = await addUser(storePaths(root).stateDir, { name, role, org: o.org, expiresAt, createdBy: 'test' });
  return { id: user.id, name, role, org: user.org_id, token };
}

/** A GET with the user's Bearer token (or none). */
export function getAs(app: App, user: TestUser | null, path: string) {
  const r = request(app).get(path);
  return user ? r.set('Authorization', `Bearer ${user.token}`) : r;
}

/** supertest collecting a binary body. */
export function binaryAs(app: App, user: TestUser | null, path: string) {
  return getAs(app, user, path).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
}
