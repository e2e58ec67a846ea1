// The agent server's contract: what the agent injects (options) and what it gets back.
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Application, Router } from 'express';
import type { HelmetOptions } from 'helmet';
import type { SyncResult, VersionLfs } from '../../data-sync/src/api.js';
import type { Logger } from '../lib/log.js';
import type { Recipe } from '../recipe/schema.js';

export type Runtime = Recipe['service']['runtime'];

/** A submodule of a checkout or data version: its place, pinned commit and URL. */
export interface SubmoduleStatus {
  path: string;
  commit: string;
  url: string;
}

/** What the status page and status.json show. Commits are full SHAs; times are ISO strings. */
export interface StatusData {
  recipe: { name: string; description?: string; runtime: Runtime };
  service: {
    repo: string;
    ref: string;
    commit?: string;
    /** What the agent is doing with the service: "installing", "running", "restarting", ... */
    state?: string;
    /** The submodules of the checkout served (service.submodules). */
    submodules?: SubmoduleStatus[];
  };
  data?: {
    repo: string;
    ref: string;
    mount: string;
    commit?: string;
    /** The submodules of the data version served (data.submodules). */
    submodules?: SubmoduleStatus[];
    /** The Git LFS figures of the data version served (data.lfs). */
    lfs?: VersionLfs;
    /** When the next scheduled sync runs, if there is a schedule. */
    nextSync?: string;
    /** Recent sync results, newest first (the first is the last sync). */
    history: SyncResult[];
  };
  /** When the agent started. */
  startedAt: string;
  /** When an ephemeral deployment (recipe ttl) ends itself. */
  expiresAt?: string;
  agentVersion?: string;
}

/** Whether the service and its first data version are ready, and if not, why. */
export interface HealthReport {
  ok: boolean;
  reasons: string[];
}

/** A framework-free webhook handler (data-sync's createWebhookHandler has this shape). */
export type WebhookHandler = (
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
) => Promise<{ status: number; body: unknown }>;

export interface CacheOptions {
  /** Memory for cached files and their compressed variants (default 64 MiB). */
  maxBytes?: number;
  /** Files larger than this are streamed from disk, not cached (default 1 MiB). */
  maxFileBytes?: number;
  /** How often the served folders' real paths are re-read to notice a publish that nobody
   *  announced with invalidate() (default 1000 ms; 0 = on every request). */
  recheckMs?: number;
}

export interface AgentServerOptions {
  runtime: Runtime;
  /** The served service folder: the current checkout plus the recipe's service.root. */
  serviceDir: () => string | undefined;
  /** The data mount (recipe data.mount, e.g. "webcache"); its URL prefix is /<mount>/. */
  dataMount?: string;
  /** The current data version folder (e.g. STATE/data/current); undefined before the first one. */
  dataDir?: () => string | undefined;
  /** process and node (start command): the service's port on 127.0.0.1; undefined while it is down. */
  proxyPort?: number | (() => number | undefined);
  /** node (module): the service's Express app or router, mounted at "/". */
  app?: Router | Application;
  status: () => StatusData;
  health: () => HealthReport;
  /** POST /_gitstrap/hooks/sync goes here; without it that path is 404. */
  webhook?: WebhookHandler;
  /** Directory listings for static folders without index.html (recipe serve.listing). */
  listing?: boolean;
  /** Largest request body (recipe serve.max_body, e.g. "1mb"). */
  maxBody?: string;
  logger?: Logger;
  cache?: CacheOptions;
  /** Helmet options replacing the defaults (DEFAULT_HELMET_OPTIONS). */
  helmet?: HelmetOptions;
  /** How long the proxy waits for the service's answer (default 60 s). */
  proxyTimeoutMs?: number;
  now?: () => Date;
}

export interface AgentServer {
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Forgets every cached file and rendered page (call it after a publish). */
  invalidate(): void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}
