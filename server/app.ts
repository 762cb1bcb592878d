// The closeloop server: Express 5 serving the dashboards and the JSON API from the current
// published generation, read-only. Order of middleware (the security work slots in here):
//   security headers -> static assets (no data) -> authenticate (hooks, ONE point) ->
//   extra routes (hooks) -> API -> downloads -> pages -> 404 -> JSON errors.
import express, { type Express } from 'express';
import helmet from 'helmet';
import { GenerationManager, type GenerationOptions } from './generation.ts';
import { apiNotFound, errorHandler, notFound } from './http.ts';
import type { ServerHooks } from './hooks.ts';
import { ExportFolder } from './exports/downloads.ts';
import { apiRouter } from './routes/api.ts';
import { assetsRouter } from './routes/assets.ts';
import { downloadsRouter } from './routes/downloads.ts';
import { pagesRouter } from './routes/pages.ts';

export interface AppOptions {
  /** Store folder (the same --db DIR as every command): pointer, published/, state/. */
  root: string;
  /** No stack traces or paths in error responses (default: NODE_ENV === 'production'). */
  production?: boolean;
  hooks?: ServerHooks;
  generation?: GenerationOptions;
  log?: (line: string) => void;
}

export type App = Express & {
  /** Close the published generation and remove temporary export files. */
  close(): void;
  generations: GenerationManager;
};

/** The strict policy the pages are built for: no inline script or style, nothing from outside. */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  upgradeInsecureRequests: null,
};

export function createApp(opts: AppOptions): App {
  const production = opts.production ?? process.env.NODE_ENV === 'production';
  const hooks = opts.hooks ?? {};
  const log = opts.log ?? ((line: string) => console.error(line));
  const generations = new GenerationManager(opts.root, { log, ...opts.generation });
  const folder = new ExportFolder();
  const app = express() as App;
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', 'weak');

  app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY }, crossOriginEmbedderPolicy: false }));
  app.use(assetsRouter({ production }));
  if (hooks.authenticate) app.use(hooks.authenticate);
  hooks.routes?.(app);
  app.use('/api', apiRouter({ root: opts.root, generations, hooks }));
  app.use('/api', downloadsRouter({ generations, hooks, folder }));
  app.use('/api', apiNotFound);
  app.use(pagesRouter(hooks));
  app.use((req, _res, next) => next(notFound(`no such page: ${req.path}`)));
  app.use(errorHandler({ production, log }));

  app.generations = generations;
  app.close = () => {
    generations.close();
    folder.close();
  };
  return app;
}
