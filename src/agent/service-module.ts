// The node runtime's module form: the checkout's module whose default export is an Express app or
// router, loaded into the agent and mounted by the serving layer.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExitCode, GitstrapError } from '../lib/errors.js';

/** An Express app or router, as far as mounting it needs: a (req, res, next) function. */
export type RequestHandlerLike = (
  req: unknown,
  res: unknown,
  next: (error?: unknown) => void,
) => void;

// A real dynamic import even in the CommonJS bundle (esbuild would turn import() into require(),
// which cannot load an ES module on Node 18).
const dynamicImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<Record<string, unknown>>;

/** Loads `module` (relative to the checkout) and returns its exported app or router. */
export async function loadServiceModule(
  checkout: string,
  module: string,
): Promise<RequestHandlerLike> {
  const file = path.join(checkout, module);
  if (!existsSync(file)) {
    throw new GitstrapError(`service.module "${module}" does not exist in the service checkout`, {
      hint: 'service.module is a path relative to the service repo, e.g. app.js',
    });
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = await dynamicImport(pathToFileURL(file).href);
  } catch (error) {
    throw new GitstrapError(
      `service.module "${module}" failed to load: ${(error as Error).message}`,
      {
        hint: 'run it with node to see the error; its dependencies come from npm ci in the checkout',
        exitCode: ExitCode.failed,
      },
    );
  }
  let exported: unknown = loaded.default ?? loaded;
  // A CommonJS module whose exports object has a default (module.exports = { default: app }).
  if (typeof exported === 'object' && exported !== null && 'default' in exported) {
    exported = (exported as { default: unknown }).default;
  }
  if (typeof exported !== 'function') {
    throw new GitstrapError(
      `service.module "${module}" does not export an Express app or router (got ${exported === null ? 'null' : typeof exported})`,
      { hint: 'export it as the default export: export default app (or module.exports = app)' },
    );
  }
  return exported as RequestHandlerLike;
}
