// Static assets: the dashboards' own client files and the chart libraries from
// node_modules, each from a fixed folder with a fixed name (no path from the request ever
// reaches the file system). vega-interpreter ships as an ES module importing 'vega-util';
// the browser gets a copy whose import points at a shim over the vega bundle's exports.
// The chart libraries are served under names carrying a hash of their bytes, cached as
// immutable: a browser fetches them once per version, and an upgrade changes the name.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

const require = createRequire(import.meta.url);
export const PUBLIC_DIR = fileURLToPath(new URL('../../dashboards/public/', import.meta.url));

/** The installed package's folder (its exports map hides the build files from require.resolve). */
function packageDir(name: string): string {
  const entry = require.resolve(name);
  const marker = `${join('node_modules', name)}`;
  const i = entry.lastIndexOf(marker);
  if (i < 0) return dirname(dirname(entry));
  return entry.slice(0, i + marker.length);
}

const VEGA_UTIL_SHIM = `// The vega-util exports vega-interpreter needs, from the vega bundle loaded before it.
const v = globalThis.vega;
export const ascending = v.ascending;
export const isString = v.isString;
export const DisallowedObjectProperties = v.DisallowedObjectProperties;
`;

interface VendorFile {
  /** The URL path, with the content hash: /vendor/vega.3f2a9c1e07b4.min.js */
  url: string;
  body: Buffer;
}

/** `name.ext` -> `name.<first 12 hex of SHA-256>.ext` (the extension is everything after the first dot). */
function hashed(name: string, body: Buffer): VendorFile {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const dot = name.indexOf('.');
  return { url: `/vendor/${name.slice(0, dot)}.${hash}${name.slice(dot)}`, body };
}

function vendorFiles() {
  const read = (pkg: string, file: string) => readFileSync(join(packageDir(pkg), file));
  const vega = hashed('vega.min.js', read('vega', 'build/vega.min.js'));
  const vegaLite = hashed('vega-lite.min.js', read('vega-lite', 'build/vega-lite.min.js'));
  const vegaEmbed = hashed('vega-embed.min.js', read('vega-embed', 'build/vega-embed.min.js'));
  const shim = hashed('vega-util-shim.js', Buffer.from(VEGA_UTIL_SHIM));
  const source = read('vega-interpreter', 'build/vega-interpreter.js').toString('utf8').replace(/from\s+['"]vega-util['"]/, `from '${shim.url}'`);
  const interpreter = hashed('vega-interpreter.js', Buffer.from(source));
  return { vega, vegaLite, vegaEmbed, shim, interpreter };
}

let files: ReturnType<typeof vendorFiles> | null = null;
/** The vendored chart libraries, read and hashed once per process. */
export function vendor(): ReturnType<typeof vendorFiles> {
  files ??= vendorFiles();
  return files;
}

export function assetsRouter(opts: { production: boolean }): Router {
  const r = Router();
  const maxAge = opts.production ? '1h' : 0;
  r.use('/static', express.static(PUBLIC_DIR, { index: false, dotfiles: 'deny', fallthrough: false, maxAge, redirect: false }));
  for (const f of Object.values(vendor())) {
    const etag = `"${createHash('sha256').update(f.body).digest('base64url').slice(0, 27)}"`;
    r.get(f.url, (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      res.setHeader('ETag', etag);
      res.type('text/javascript; charset=utf-8').send(f.body);
    });
  }
  return r;
}
