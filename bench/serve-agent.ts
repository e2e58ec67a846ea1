// The agent's server as bench:serve runs it: the real createAgentServer on a static folder, with
// the V8 flag `bootstrap run` sets on itself when the process runs with the unit's environment.
// Used by the bundled bench servers (bench/serve.ts, serversSource) and by `--serve agent` (tsx).
import path from 'node:path';
import v8 from 'node:v8';
import { AGENT_RUNTIME_ENV, applyAgentV8Flags } from '../src/lib/agent-runtime-env.js';
import { createAgentServer } from '../src/serve/index.js';

export async function startBenchAgent(root: string, port: number): Promise<void> {
  // As `bootstrap run` does, in the row that runs the agent as its unit does.
  if (process.env.NODE_OPTIONS === AGENT_RUNTIME_ENV.NODE_OPTIONS) {
    applyAgentV8Flags(v8.setFlagsFromString);
  }
  const server = createAgentServer({
    runtime: 'static',
    serviceDir: () => path.join(root, 'site'),
    dataMount: 'data',
    dataDir: () => path.join(root, 'data'),
    status: () => ({
      recipe: { name: 'bench', runtime: 'static' },
      service: { repo: '/bench', ref: 'main' },
      startedAt: new Date().toISOString(),
    }),
    health: () => ({ ok: true, reasons: [] }),
  });
  await server.listen(port, '127.0.0.1');
}
