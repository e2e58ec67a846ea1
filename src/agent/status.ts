// What the status page and /_gitstrap/status.json show, built from a snapshot of the agent. Pure.
import type { SyncResult, VersionLfs } from '../../data-sync/src/api.js';
import type { Recipe } from '../recipe/schema.js';
import type { StatusData, SubmoduleStatus } from '../serve/types.js';

/** The agent's moving parts at one moment. */
export interface AgentSnapshot {
  startedAt: Date;
  expiresAt?: Date;
  service: { commit?: string; state: string; submodules?: SubmoduleStatus[] };
  data?: {
    commit?: string;
    history: SyncResult[];
    nextSync?: Date;
    submodules?: SubmoduleStatus[];
    lfs?: VersionLfs;
  };
  version?: string;
}

/** The status of a recipe's deployment. */
export function buildStatus(recipe: Recipe, snapshot: AgentSnapshot): StatusData {
  const { service, data } = snapshot;
  return {
    recipe: {
      name: recipe.name,
      runtime: recipe.service.runtime,
      ...(recipe.description ? { description: recipe.description } : {}),
    },
    service: {
      repo: recipe.service.repo,
      ref: recipe.service.ref,
      state: service.state,
      ...(service.commit ? { commit: service.commit } : {}),
      ...(service.submodules?.length ? { submodules: service.submodules } : {}),
    },
    ...(recipe.data
      ? {
          data: {
            repo: recipe.data.repo,
            ref: recipe.data.ref,
            mount: recipe.data.mount,
            history: data?.history ?? [],
            ...(data?.commit ? { commit: data.commit } : {}),
            ...(data?.submodules?.length ? { submodules: data.submodules } : {}),
            ...(data?.lfs ? { lfs: data.lfs } : {}),
            ...(data?.nextSync ? { nextSync: data.nextSync.toISOString() } : {}),
          },
        }
      : {}),
    startedAt: snapshot.startedAt.toISOString(),
    ...(snapshot.expiresAt ? { expiresAt: snapshot.expiresAt.toISOString() } : {}),
    ...(snapshot.version ? { agentVersion: snapshot.version } : {}),
  };
}
