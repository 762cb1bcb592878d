// Fetching from the API: JSON or a readable error (the API's own message), never a throw
// that ends up on the console unhandled. A 401 means the session ended (idle, signed out,
// revoked): the browser goes back to the sign-in page, which returns here afterwards.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function signInAgain() {
  const next = `${location.pathname}${location.search}`;
  location.assign(next && next !== '/' ? `/signin?next=${encodeURIComponent(next)}` : '/signin');
}

export async function getJson(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.status === 401) signInAgain();
  if (!res.ok) throw new ApiError(res.status, (body && body.error) || `${res.status} ${res.statusText}`);
  return body;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
