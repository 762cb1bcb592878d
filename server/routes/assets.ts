// Static assets: the dashboards' own client files and the chart libraries from
// node_modules, each from a fixed folder with a fixed name (no path from the request ever
// reaches the file system). vega-interpreter ships as an ES module importing 'vega-util';
// the browser gets a copy whose import points at a shim over the vega bundle's exports.
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

const VENDOR: Record<string, { pkg: string; file: string }> = {
  'vega.min.js': { pkg: 'vega', file: 'build/vega.min.js' },
  'vega-lite.min.js': { pkg: 'vega-lite', file: 'build/vega-lite.min.js' },
  'vega-embed.min.js': { pkg: 'vega-embed', file: 'build/vega-embed.min.js' },
};

const VEGA_UTIL_SHIM = `// The vega-util exports vega-interpreter needs, from the vega bundle loaded before it.
const v = globalThis.vega;
export const ascending = v.ascending;
export const isString = v.isString;
export const DisallowedObjectProperties = v.DisallowedObjectProperties;
`;

let interpreterSource: string | null = null;
function interpreter(): string {
  interpreterSource ??= readFileSync(join(packageDir('vega-interpreter'), 'build/vega-interpreter.js'), 'utf8').replace(/from\s+['"]vega-util['"]/, "from '/vendor/vega-util-shim.js'");
  return interpreterSource;
}

export function assetsRouter(opts: { production: boolean }): Router {
  const r = Router();
  const maxAge = opts.production ? '1h' : 0;
  r.use('/static', express.static(PUBLIC_DIR, { index: false, dotfiles: 'deny', fallthrough: false, maxAge, redirect: false }));
  for (const [name, v] of Object.entries(VENDOR)) {
    const root = join(packageDir(v.pkg), dirname(v.file));
    const file = v.file.split('/').at(-1)!;
    r.get(`/vendor/${name}`, (_req, res, next) => {
      res.sendFile(file, { root, maxAge: opts.production ? '1d' : 0, headers: { 'Content-Type': 'text/javascript; charset=utf-8' } }, (err) => err && next(err));
    });
  }
  r.get('/vendor/vega-interpreter.js', (_req, res) => {
    res.type('text/javascript; charset=utf-8').send(interpreter());
  });
  r.get('/vendor/vega-util-shim.js', (_req, res) => {
    res.type('text/javascript; charset=utf-8').send(VEGA_UTIL_SHIM);
  });
  return r;
}
