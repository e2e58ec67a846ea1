// Where the agent keeps things under its state root (docs/architecture.md, "the on-disk contract").
import path from 'node:path';

/** Every path the agent uses under one state root. */
export interface Layout {
  root: string;
  lock: string;
  serviceDir: string;
  serviceCurrent: string;
  dataDir: string;
  dataCurrent: string;
  stepsDir: string;
  authDir: string;
  /** The checkout of one service commit. */
  checkout(commit: string): string;
}

/** The layout of the state root `root`. */
export function layoutOf(root: string): Layout {
  const abs = path.resolve(root);
  const serviceDir = path.join(abs, 'service');
  const dataDir = path.join(abs, 'data');
  return {
    root: abs,
    lock: path.join(abs, 'agent.lock'),
    serviceDir,
    serviceCurrent: path.join(serviceDir, 'current'),
    dataDir,
    dataCurrent: path.join(dataDir, 'current'),
    stepsDir: path.join(abs, 'steps'),
    authDir: path.join(abs, 'auth'),
    checkout: (commit) => path.join(serviceDir, commit),
  };
}
