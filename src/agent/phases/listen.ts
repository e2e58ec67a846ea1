// Phase "listen": build the agent's HTTP server and bind it, before any work, so a taken port fails
// at once and healthz answers 503 while the agent clones and installs.
import type { Router } from 'express';
import { ExitCode, GitstrapError } from '../../lib/errors.js';
import { freeLoopbackPort } from '../../lib/free-port.js';
import type { Logger } from '../../lib/log.js';
import type { Recipe } from '../../recipe/schema.js';
import type {
  AgentServer,
  AgentServerOptions,
  HealthReport,
  StatusData,
  WebhookHandler,
} from '../../serve/types.js';
import type { Layout } from '../layout.js';

/** Whether the agent proxies to a service it starts (process runtime, or node with a start). */
export function isProxied(recipe: Recipe): boolean {
  return (
    recipe.service.runtime === 'process' ||
    (recipe.service.runtime === 'node' && recipe.service.start !== undefined)
  );
}

/** The host the agent probes its own server on. */
export function loopbackFor(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

export interface ListenInput {
  recipe: Recipe;
  layout: Layout;
  logger: Logger;
  now: () => Date;
  createServer: (options: AgentServerOptions) => AgentServer;
  /** The served service folder, once checked out. */
  serviceDir: () => string | undefined;
  /** Whether the proxied service runs now (requests are proxied only then). */
  serviceRunning: () => boolean;
  /** The service module's router (recipe service.module). */
  app: Router;
  status: () => StatusData;
  health: () => HealthReport;
  /** The data webhook, once the data engine exists. */
  webhook: () => WebhookHandler | undefined;
}

export interface Listening {
  server: AgentServer;
  /** The agent's own URL on loopback. */
  selfUrl: string;
  /** The port the service answers on: the proxied service's loopback port, else the agent's. */
  servicePort: number;
  /** The proxied service's loopback port; undefined when the agent serves the service itself. */
  proxyPort?: number;
}

/** Creates the server and binds it to serve.host:serve.port; logs agent.listening. */
export async function listen(input: ListenInput): Promise<Listening> {
  const { recipe, layout, logger } = input;
  const proxied = isProxied(recipe);
  const proxyPort = proxied ? await freeLoopbackPort() : undefined;
  const server = input.createServer({
    runtime: recipe.service.runtime,
    serviceDir: input.serviceDir,
    ...(recipe.data
      ? {
          dataMount: recipe.data.mount,
          dataDir: () => layout.dataCurrent,
        }
      : {}),
    ...(proxied ? { proxyPort: () => (input.serviceRunning() ? proxyPort : undefined) } : {}),
    ...(recipe.service.module ? { app: input.app } : {}),
    status: input.status,
    health: input.health,
    ...(recipe.data?.webhook
      ? {
          webhook: (headers, body) => {
            const webhook = input.webhook();
            return webhook
              ? webhook(headers, body)
              : Promise.resolve({ status: 503, body: { error: 'the agent is starting' } });
          },
        }
      : {}),
    listing: recipe.serve.listing,
    maxBody: recipe.serve.max_body,
    logger: logger.child({ part: 'serve' }),
    now: input.now,
  });
  let address;
  try {
    address = await server.listen(recipe.serve.port, recipe.serve.host);
  } catch (error) {
    // The server says why (port taken, not allowed, no such address); it is a run-time failure.
    const message =
      error instanceof GitstrapError
        ? error.message
        : `cannot listen on ${recipe.serve.host}:${recipe.serve.port}: ${String(error)}`;
    throw new GitstrapError(message, {
      ...(error instanceof GitstrapError && error.hint ? { hint: error.hint } : {}),
      exitCode: ExitCode.failed,
      cause: error,
    });
  }
  logger.log('info', 'agent.listening', { host: recipe.serve.host, port: address.port });
  return {
    server,
    selfUrl: `http://${loopbackFor(recipe.serve.host)}:${address.port}`,
    servicePort: proxyPort ?? address.port,
    ...(proxyPort !== undefined ? { proxyPort } : {}),
  };
}
