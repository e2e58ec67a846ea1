// The agent's HTTP layer: createAgentServer and the types the agent injects (docs/serving.md).
export { createAgentServer } from './server.js';
export { AGENT_PREFIX } from './app.js';
export { DEFAULT_HELMET_OPTIONS } from './security-headers.js';
export type {
  AgentServer,
  AgentServerOptions,
  CacheOptions,
  HealthReport,
  Runtime,
  StatusData,
  WebhookHandler,
} from './types.js';
