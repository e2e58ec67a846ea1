// Cross-field rules: small named checks that need more than one key. Each returns the problems it
// finds; none throws. The schema (schema.ts) has already checked every key on its own.
import cron from 'node-cron';
import type { Recipe } from './schema.js';
import { credentialHint, findCredentials } from './secrets.js';
import { parseUnifiedDiff } from './unified-diff.js';

export interface RuleIssue {
  path: PropertyKey[];
  message: string;
  hint?: string;
}

type Rule = (recipe: Recipe) => RuleIssue[];

/** "exactly one of" over an object's keys. */
function exactlyOne(
  value: object,
  keys: readonly string[],
  path: PropertyKey[],
  what: string,
): RuleIssue[] {
  const present = keys.filter((k) => (value as Record<string, unknown>)[k] !== undefined);
  if (present.length === 1) return [];
  return [
    {
      path,
      message:
        present.length === 0
          ? `${what} needs one of ${keys.join(', ')}`
          : `${what} has ${present.join(' and ')}; expected exactly one of ${keys.join(', ')}`,
      hint: `split it into separate entries, one action each`,
    },
  ];
}

const installStepsHaveOneAction: Rule = (r) =>
  r.service.install.flatMap((step, i) =>
    exactlyOne(
      step,
      ['packages', 'run', 'shell', 'patch'],
      ['service', 'install', i],
      `install step "${step.name}"`,
    ),
  );

const installStepNamesAreUnique: Rule = (r) => {
  const seen = new Set<string>();
  return r.service.install.flatMap((step, i) => {
    if (!seen.has(step.name)) {
      seen.add(step.name);
      return [];
    }
    return [
      {
        path: ['service', 'install', i, 'name'],
        message: `step name "${step.name}" is used twice`,
        hint: 'give every install step its own name',
      },
    ];
  });
};

const packageStepsTakeNoCommandOptions: Rule = (r) =>
  r.service.install.flatMap((step, i) =>
    (step.packages !== undefined || step.patch !== undefined) &&
    (step.env !== undefined || step.cwd !== undefined)
      ? [
          {
            path: ['service', 'install', i],
            message: `install step "${step.name}" ${step.patch !== undefined ? 'applies a patch (its paths are from the checkout root)' : 'installs packages'}; env and cwd apply only to run and shell steps`,
          },
        ]
      : [],
  );

const patchesAreUnifiedDiffs: Rule = (r) =>
  r.service.install.flatMap((step, i) => {
    if (step.patch === undefined) return [];
    const parsed = parseUnifiedDiff(step.patch);
    if (parsed.ok) return [];
    return [
      {
        path: ['service', 'install', i, 'patch'],
        message: `install step "${step.name}": line ${parsed.line} of the patch: ${parsed.message}`,
        hint: 'paste the output of git diff, made in a clone of service.repo (the line after "patch: |" is line 1)',
      },
    ];
  });

const runtimeNeedsItsEntry: Rule = (r) => {
  const { runtime, start, module } = r.service;
  const at = ['service'];
  if (runtime === 'process' && !start) {
    return [
      {
        path: [...at, 'start'],
        message: 'runtime "process" needs a start command',
        hint: 'e.g. start: [php, -S, "127.0.0.1:{port}"]',
      },
    ];
  }
  if (runtime === 'node' && !start === !module) {
    return [
      {
        path: [...at, start ? 'module' : 'start'],
        message:
          'runtime "node" needs exactly one of start (a command, proxied) or module (an exported Express app, mounted)',
      },
    ];
  }
  if ((runtime === 'static' || runtime === 'site') && (start || module)) {
    return [
      {
        path: [...at, start ? 'start' : 'module'],
        message: `runtime "${runtime}" is served by the agent itself; start and module apply to node and process`,
      },
    ];
  }
  return [];
};

const transformsHaveOneAction: Rule = (r) =>
  (r.data?.transform ?? []).flatMap((t, i) => {
    const path = ['data', 'transform', i];
    const issues = exactlyOne(t, ['extract', 'copy', 'move', 'run'], path, `transform ${i + 1}`);
    if (t.extract === undefined && (t.into !== '.' || t.strip !== 0 || t.keep_archive)) {
      issues.push({
        path,
        message: `transform ${i + 1}: into, strip and keep_archive apply only to extract`,
      });
    }
    return issues;
  });

const checksHaveOneAction: Rule = (r) =>
  (r.data?.check ?? []).flatMap((c, i) =>
    exactlyOne(c, ['exists', 'json', 'run'], ['data', 'check', i], `check ${i + 1}`),
  );

const notifyHasOneAction: Rule = (r) => {
  const notify = r.data?.notify;
  if (!notify) return [];
  const issues = exactlyOne(notify, ['signal', 'run', 'http'], ['data', 'notify'], 'notify');
  if (notify.signal && !r.service.start) {
    issues.push({
      path: ['data', 'notify', 'signal'],
      message: 'notify.signal needs a service process (service.start) to signal',
    });
  }
  return issues;
};

const scheduleIsCron: Rule = (r) => {
  const schedule = r.data?.schedule;
  if (schedule === undefined || cron.validate(schedule)) return [];
  return [
    {
      path: ['data', 'schedule'],
      message: `expected a cron expression (minute hour day-of-month month day-of-week), got ${JSON.stringify(schedule)}`,
      hint: 'e.g. "1 0 * * *" for 00:01 every night',
    },
  ];
};

const authIsOneKind: Rule = (r) =>
  (['service', 'data'] as const).flatMap((part) => {
    const auth = r[part]?.auth;
    if (!auth) return [];
    const kinds = (['ssh_key_file', 'token_file', 'ssm_parameter'] as const).filter(
      (k) => auth[k] !== undefined,
    );
    const issues: RuleIssue[] = [];
    if (kinds.length !== 1) {
      issues.push({
        path: [part, 'auth'],
        message: `${part}.auth needs exactly one of ssh_key_file, token_file, ssm_parameter`,
      });
    }
    if (auth.ssh_key_file && !auth.known_hosts?.length) {
      issues.push({
        path: [part, 'auth', 'known_hosts'],
        message: 'an SSH deploy key needs pinned host keys in known_hosts',
        hint: "add the output of `ssh-keyscan HOST` (checked against the host's published fingerprints)",
      });
    }
    return issues;
  });

const noCredentialsInValues: Rule = (r) =>
  findCredentials(r).map(({ path, kind }) => ({
    path,
    message: `carries a credential (${kind}); user-data and recipes are readable by anyone on the instance`,
    hint: credentialHint(kind),
  }));

const registryNeedsNpmSource: Rule = (r) => {
  const source = r.agent.source;
  if (
    r.agent.registry === undefined ||
    source === undefined ||
    (typeof source === 'string' && source.startsWith('npm:'))
  )
    return [];
  return [
    {
      path: ['agent', 'registry'],
      message: `is only used to install the agent from npm, but agent.source is ${typeof source === 'string' ? `"${source}"` : 'a bundle URL'}`,
      hint: 'remove agent.registry, or set agent.source to "npm:<package spec>" (or leave it out for this gitstrap version from npm)',
    },
  ];
};

const submoduleUrlsNeedSubmodules: Rule = (r) =>
  (['service', 'data'] as const).flatMap((part) => {
    const repo = r[part];
    if (!repo?.submodule_urls || repo.submodules) return [];
    return [
      {
        path: [part, 'submodule_urls'],
        message: `${part}.submodule_urls applies only when ${part}.submodules fetches submodules`,
        hint: `set ${part}.submodules: true (or a list of paths), or remove ${part}.submodule_urls`,
      },
    ];
  });

const dataSubmodulesInsideSparse: Rule = (r) => {
  const { submodules, sparse } = r.data ?? {};
  if (!Array.isArray(submodules) || !sparse?.length) return [];
  const trim = (p: string) => p.replace(/^\/+|\/+$/g, '');
  const dirs = sparse.map(trim);
  return submodules.flatMap((p, i) => {
    const sub = trim(p);
    const reached = dirs.some(
      (d) => sub === d || sub.startsWith(`${d}/`) || d.startsWith(`${sub}/`),
    );
    return reached
      ? []
      : [
          {
            path: ['data', 'submodules', i],
            message: `submodule path ${p} is outside data.sparse (${sparse.join(', ')}): it would never be checked out`,
            hint: 'add it to data.sparse, or remove it from data.submodules',
          },
        ];
  });
};

/** What the static source does not carry: a bundle holds one commit's tree, nothing fetched later. */
const staticSourceTakesWholeCommits: Rule = (r) => {
  const data = r.data;
  if (!data?.source?.static) return [];
  const hint =
    'remove it, or pull from data.repo with git (remove data.source): the static mirror carries one commit of the data repo, whole';
  const issues: RuleIssue[] = [];
  const refuse = (key: string, what: string) =>
    issues.push({
      path: ['data', key],
      message: `data.${key} ${what}, which data.source.static does not support`,
      hint,
    });
  if (data.submodules) refuse('submodules', 'fetches submodules from their own repos');
  if (data.lfs) refuse('lfs', 'downloads Git LFS objects from the LFS endpoint of data.repo');
  if (data.sparse) refuse('sparse', 'checks out part of the data repo');
  if (data.filter) refuse('filter', 'makes a partial clone');
  if (/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(data.ref)) {
    issues.push({
      path: ['data', 'ref'],
      message:
        'data.ref pins a commit, but data.source.static follows the branch the mirror publishes',
      hint: 'set data.ref to the branch bootstrap publish pushes (e.g. main), or remove data.source to pin a commit',
    });
  }
  return issues;
};

/**
 * Every cross-field rule by name, in the order their problems are reported. Which of them the editor
 * JSON Schema carries too is said once per rule in rules-in-json-schema.ts.
 */
export const rules = {
  installStepsHaveOneAction,
  installStepNamesAreUnique,
  packageStepsTakeNoCommandOptions,
  patchesAreUnifiedDiffs,
  runtimeNeedsItsEntry,
  transformsHaveOneAction,
  checksHaveOneAction,
  notifyHasOneAction,
  scheduleIsCron,
  authIsOneKind,
  noCredentialsInValues,
  registryNeedsNpmSource,
  submoduleUrlsNeedSubmodules,
  dataSubmodulesInsideSparse,
  staticSourceTakesWholeCommits,
} as const satisfies Record<string, Rule>;

export type RuleName = keyof typeof rules;

/** Runs every rule over a schema-valid recipe. */
export function checkRules(recipe: Recipe): RuleIssue[] {
  return Object.values(rules).flatMap((rule) => rule(recipe));
}
