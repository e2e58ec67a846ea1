// The Express side of the agent server: its own paths under /_gitstrap/ (healthz, status page,
// status.json, the data webhook), and for the service what the fast path leaves: folders
// (redirects, index.html, listings), files too large to cache, 404s and 405s, the mounted app.
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../lib/log.js';
import { ServeError, treeOf, type FileKind } from './fast-path.js';
import { listFolder, renderListing } from './directory-listing.js';
import { requestInfoOf } from './request-info.js';
import { resolveInside } from '../lib/resolve-inside.js';
import { sendHtml, sendRedirect, sendText, statusLine } from './responses.js';
import { sendFile } from './send-file.js';
import { isTemplateFile, pageFileFor } from './site.js';
import { describeStatus, renderStatusPage, statusJson } from './status-page.js';
import type { AgentServerOptions } from './types.js';

export interface AppOptions {
  options: AgentServerOptions;
  mountPrefix: string | undefined;
  securityPairs: ReadonlyArray<readonly [string, string]>;
  securityHeaders: readonly string[];
  logger: Logger;
  now: () => Date;
}

/** The agent's prefix for its own paths. */
export const AGENT_PREFIX = '/_gitstrap';

/** Builds the Express app. */
export function createExpressApp(o: AppOptions): express.Express {
  const { options, securityHeaders, logger } = o;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  app.use((_req, res, next) => {
    for (const [name, value] of o.securityPairs) res.setHeader(name, value);
    next();
  });

  app.get(AGENT_PREFIX, (_req, res) => sendRedirect(res, securityHeaders, `${AGENT_PREFIX}/`));
  app.use(AGENT_PREFIX, createAgentRouter(o));
  app.use(serveFiles(o));
  if (options.app !== undefined) app.use(options.app);
  app.use((req: Request, res: Response) => {
    const proxied = options.runtime === 'node' || options.runtime === 'process';
    if (proxied && options.app === undefined && !requestInfoOf(req)?.kind) {
      sendHtml(
        res,
        securityHeaders,
        502,
        'The service is not answering',
        'No service is configured.',
      );
    } else {
      sendText(res, securityHeaders, 404);
    }
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(error);
    if (error instanceof ServeError) {
      if (status === 500)
        logger.log('error', 'serve.render_failed', { path: req.originalUrl, error });
      sendText(res, securityHeaders, status, `${statusLine(status)}: ${error.message}`);
    } else if (status === 413) {
      logger.log('warn', 'serve.body_too_large', { path: req.originalUrl, limit: options.maxBody });
      sendText(res, securityHeaders, 413, undefined, ['Connection', 'close']);
    } else if (status >= 400 && status < 500) {
      sendText(res, securityHeaders, status);
    } else {
      logger.log('error', 'serve.failed', { path: req.originalUrl, error });
      sendText(res, securityHeaders, 500);
    }
  });
  return app;
}

function createAgentRouter(o: AppOptions): express.Router {
  const { options, securityHeaders } = o;
  const router = express.Router({ caseSensitive: true, strict: true });
  router.get('/healthz', (_req, res) => {
    const health = options.health();
    res
      .status(health.ok ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(health);
  });
  router.get('/status.json', (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .json(statusJson(options.status(), options.health(), o.now()));
  });
  router.get('/', (_req, res) => {
    const view = describeStatus(options.status(), options.health(), o.now());
    res.set('Cache-Control', 'no-store').type('html').send(renderStatusPage(view));
  });
  router.post(
    '/hooks/sync',
    (_req, res, next) => (options.webhook ? next() : sendText(res, securityHeaders, 404)),
    express.raw({ type: () => true, limit: options.maxBody ?? '1mb' }),
    async (req, res) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const answer = await options.webhook!(req.headers, body);
      res.status(answer.status).set('Cache-Control', 'no-store');
      if (typeof answer.body === 'string') res.type('text').send(answer.body);
      else res.json(answer.body ?? {});
    },
  );
  router.all('/hooks/sync', (_req, res) =>
    options.webhook
      ? sendText(res, securityHeaders, 405, undefined, ['Allow', 'POST'])
      : sendText(res, securityHeaders, 404),
  );
  router.use((_req, res) => sendText(res, securityHeaders, 404));
  return router;
}

/** Folders, large files and refusals for the static, site and data trees. */
function serveFiles(o: AppOptions) {
  const { options, securityHeaders, logger } = o;
  return async (req: Request, res: Response, next: NextFunction) => {
    const info = requestInfoOf(req);
    if (info?.kind === undefined) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendText(res, securityHeaders, 405, undefined, ['Allow', 'GET, HEAD']);
    }
    const kind: FileKind = info.kind;
    const { root, segments, allowed } = treeOf(info.gen, info.path, kind, o.mountPrefix);
    if (kind === 'site') {
      if (isTemplateFile(info.path)) return sendText(res, securityHeaders, 404);
      if (!info.path.endsWith('/')) {
        const page = await resolveInside(path.join(root, 'pages'), pageFileFor(`${info.path}/`), [
          root,
        ]);
        if (page.kind === 'file') return sendRedirect(res, securityHeaders, `${info.path}/`);
      }
    }
    const found = await resolveInside(root, segments, allowed);
    if (found.kind === 'refused') {
      logger.log('warn', 'serve.symlink_refused', { path: info.path, target: found.path });
      return sendText(res, securityHeaders, 404);
    }
    if (found.kind === 'missing') return sendText(res, securityHeaders, 404);
    if (found.kind === 'file') return sendFile(req, res, found.path, found.stat, securityHeaders);
    if (!info.path.endsWith('/')) return sendRedirect(res, securityHeaders, `${info.path}/`);
    const index = await resolveInside(found.path, ['index.html'], allowed);
    if (index.kind === 'file') return sendFile(req, res, index.path, index.stat, securityHeaders);
    if (options.listing && kind !== 'site') {
      const html = renderListing(info.path, await listFolder(found.path));
      res.set('Cache-Control', 'no-cache').type('html').send(html);
      return;
    }
    sendText(res, securityHeaders, 404);
  };
}

function statusOf(error: unknown): number {
  if (error !== null && typeof error === 'object') {
    const e = error as { status?: unknown; statusCode?: unknown };
    if (typeof e.status === 'number') return e.status;
    if (typeof e.statusCode === 'number') return e.statusCode;
  }
  return 500;
}
