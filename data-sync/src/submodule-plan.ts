// Planning submodules: which of the gitlinks a commit pins are fetched, from which URL (relative
// URLs resolved against the parent's as git resolves them), whether that URL is allowed and whether
// the parent's credentials go with it, and the git commands that fetch one. Pure: used by the
// data-sync engine and by the agent's service checkout, with golden tests; runs nothing.
//
// A data repo may be pushed by another party (docs/security.md): its .gitmodules is untrusted input.
// A URL is fetched only when it is a network URL (https, http, ssh, git) on the parent's host, or
// under a prefix the recipe lists. Local paths and file:// are never fetched (git's
// protocol.file.allow=user protection, kept on by GIT_PROTOCOL_FROM_USER=0 besides); names are
// checked as git checks them (no ".." component).
import { sparseReach } from './fetch-plan.js';

/** A refusal of a submodule, written for the operator; `hint` says what to do. */
export class SubmoduleRefusal extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'SubmoduleRefusal';
    this.hint = hint;
  }
}

/** One `[submodule "NAME"]` section of a .gitmodules file. */
export interface GitmodulesEntry {
  name: string;
  path?: string;
  url?: string;
}

/**
 * Parses `git config -z --list --blob COMMIT:.gitmodules` output ("key\nvalue\0" records) into
 * its submodule sections, in file order. Keys are `submodule.<name>.<var>`; the name may hold dots.
 */
export function parseGitmodules(output: string): GitmodulesEntry[] {
  const byName = new Map<string, GitmodulesEntry>();
  for (const record of output.split('\0')) {
    if (!record) continue;
    const nl = record.indexOf('\n');
    const key = nl < 0 ? record : record.slice(0, nl);
    const value = nl < 0 ? '' : record.slice(nl + 1);
    if (!key.startsWith('submodule.')) continue;
    const dot = key.lastIndexOf('.');
    const name = key.slice('submodule.'.length, dot);
    const variable = key.slice(dot + 1).toLowerCase();
    if (dot <= 'submodule.'.length - 1 || !name) continue;
    const entry = byName.get(name) ?? { name };
    byName.set(name, entry);
    if (variable === 'path') entry.path = value;
    else if (variable === 'url') entry.url = value;
  }
  return [...byName.values()];
}

/** A gitlink (mode 160000 entry) of a tree: a submodule pinned at a commit. */
export interface Gitlink {
  path: string;
  commit: string;
}

/** The gitlinks in `git ls-tree -r -z TREE` output ("MODE TYPE OID\tPATH\0" entries). */
export function parseGitlinks(output: string): Gitlink[] {
  const links: Gitlink[] = [];
  for (const entry of output.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab < 0) continue;
    const [mode, type, oid] = entry.slice(0, tab).split(' ');
    if (mode === '160000' && type === 'commit' && oid) {
      links.push({ path: entry.slice(tab + 1), commit: oid });
    }
  }
  return links;
}

/** Whether a submodule name is one git accepts: not empty, no ".." path component (/ or \). */
export function submoduleNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.split(/[/\\]/).includes('..')) return 'it has a ".." path component';
  return undefined;
}

const startsWithDot = (u: string) => u.startsWith('./') || u.startsWith('../');

/**
 * Resolves a submodule URL against the parent's URL as git does (submodule--helper's
 * relative_url): "./x" and "../x" drop path components of the parent's URL; anything else is
 * taken as written. Undefined when a "../" cannot strip a component.
 */
export function resolveSubmoduleUrl(parentUrl: string, url: string): string | undefined {
  if (!startsWithDot(url)) return url;
  let remote = parentUrl;
  // git ignores a trailing "/" and "/." of the parent's URL.
  for (;;) {
    if (remote.endsWith('/')) remote = remote.slice(0, -1);
    else if (remote.endsWith('/.')) remote = remote.slice(0, -2);
    else break;
  }
  let rest = url;
  let colon = false;
  for (;;) {
    if (rest.startsWith('../')) {
      rest = rest.slice(3);
      const slash = remote.lastIndexOf('/');
      if (slash >= 0) remote = remote.slice(0, slash);
      else {
        const c = remote.lastIndexOf(':');
        if (c < 0) return undefined;
        remote = remote.slice(0, c);
        colon = true;
      }
    } else if (rest.startsWith('./')) rest = rest.slice(2);
    else break;
  }
  let out = `${remote}${colon ? ':' : '/'}${rest}`;
  while (out.endsWith('/')) out = out.slice(0, -1);
  if (out.endsWith('/.')) out = out.slice(0, -2);
  return out;
}

/** What a URL is: a network URL (with its scheme, host and port), a local path, or something else. */
export type UrlKind =
  | { kind: 'network'; scheme: string; host: string; port: string }
  | { kind: 'local' }
  | { kind: 'other'; scheme: string };

const NETWORK_SCHEMES: Record<string, string> = {
  https: 'https',
  http: 'http',
  git: 'git',
  ssh: 'ssh',
  'git+ssh': 'ssh',
  'ssh+git': 'ssh',
};
const DEFAULT_PORTS: Record<string, string> = { https: '443', http: '80', git: '9418', ssh: '22' };

/** Classifies a git URL the way git's transport selection reads it. */
export function describeUrl(url: string): UrlKind {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name === 'file') return { kind: 'local' };
    const normal = NETWORK_SCHEMES[name];
    if (!normal) return { kind: 'other', scheme: name };
    const authority = url.slice(scheme[0].length).split(/[/?#]/)[0] ?? '';
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
    const host = (m?.[1] ?? '').toLowerCase();
    if (!host) return { kind: 'other', scheme: name };
    return { kind: 'network', scheme: normal, host, port: m?.[2] || DEFAULT_PORTS[normal]! };
  }
  // "<transport>::<address>": a remote helper (ext::, fd::, ...).
  const helper = /^([A-Za-z][A-Za-z0-9+.-]*)::/.exec(url);
  if (helper) return { kind: 'other', scheme: `${helper[1]!.toLowerCase()}::` };
  // scp-like "[user@]host:path": a colon before any slash.
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  if (colon > 0 && (slash < 0 || colon < slash)) {
    const host = url.slice(url.lastIndexOf('@', colon) + 1, colon).toLowerCase();
    if (host && !/^\[?$/.test(host)) {
      return { kind: 'network', scheme: 'ssh', host: host.replace(/^\[|\]$/g, ''), port: '22' };
    }
  }
  return { kind: 'local' };
}

/** Whether `url` is under one of the recipe's allowed URL prefixes. */
export function isAllowedByPrefix(url: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => {
    if (url === prefix) return true;
    const p = /[/:]$/.test(prefix) ? prefix : `${prefix}/`;
    return url.startsWith(p);
  });
}

/** Whether the parent's credentials may go with a request to `url`: same scheme, host and port. */
export function sharesCredentials(url: string, parentUrl: string): boolean {
  const a = describeUrl(url);
  const b = describeUrl(parentUrl);
  return (
    a.kind === 'network' &&
    b.kind === 'network' &&
    a.scheme === b.scheme &&
    a.host === b.host &&
    a.port === b.port
  );
}

/**
 * Why `url` may not be fetched for a submodule of a repo at `parentUrl`, or undefined when it may:
 * a network URL on the parent's host, or under an allowed prefix.
 */
export function submoduleUrlProblem(
  url: string,
  parentUrl: string,
  allowed: readonly string[],
): string | undefined {
  if (url.startsWith('-')) return 'it starts with "-" (it would be read as an option)';
  const kind = describeUrl(url);
  if (kind.kind === 'local') {
    return 'it is a local path or file:// URL, which is never fetched (protocol.file.allow)';
  }
  if (kind.kind === 'other') return `its transport ${kind.scheme} is not allowed`;
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\u0000-\u001f\u007f\s]/.test(url)) return 'it holds spaces or control characters';
  if (isAllowedByPrefix(url, allowed)) return undefined;
  const parent = describeUrl(parentUrl);
  if (parent.kind === 'network' && parent.host === kind.host) return undefined;
  return parent.kind === 'network'
    ? `it is on another host (${kind.host}) than its parent (${parent.host})`
    : `its parent is not on a network host, and it is not under an allowed prefix`;
}

/** Which submodules a recipe asks for: none, all, or those at (or under) these paths. */
export type SubmoduleSelection = boolean | readonly string[] | undefined;

/** One submodule to fetch and place. */
export interface PlannedSubmodule {
  name: string;
  /** Where it goes, relative to its parent repo. */
  path: string;
  /** Where it goes, relative to the top-level repo ("theme/vendor/lib"). */
  fullPath: string;
  url: string;
  commit: string;
  /** Whether the parent's credentials go with it (same scheme, host and port as the parent). */
  credentials: boolean;
}

export interface SubmodulePlanInput {
  gitlinks: readonly Gitlink[];
  /** The parsed .gitmodules of the same commit (empty when it has none). */
  gitmodules: readonly GitmodulesEntry[];
  parentUrl: string;
  /** The top-level repo's selection; nested submodules of a selected one are all selected. */
  selection: SubmoduleSelection;
  /** URL prefixes the recipe allows besides the parent's host. */
  allowed: readonly string[];
  /** The top-level sparse paths (cone mode); submodules outside them are skipped. */
  sparse?: readonly string[] | undefined;
  /** The path of this repo inside the top-level one ("" for the top-level repo). */
  prefix: string;
  /** How messages name this repo and the recipe key ("the data repo", "data"). */
  what: string;
  key: string;
}

/** What to fetch, and what is skipped (outside the selection or the sparse paths) and why. */
export interface SubmodulePlan {
  fetch: PlannedSubmodule[];
  skipped: Array<{ fullPath: string; commit: string; why: 'not selected' | 'outside sparse' }>;
}

const join = (prefix: string, p: string) => (prefix ? `${prefix}/${p}` : p);
const trimSlashes = (p: string) => p.replace(/^\.\/+/, '').replace(/\/+$/, '');

/**
 * Plans the submodules of one commit. Throws a SubmoduleRefusal naming the submodule when a selected
 * one has no .gitmodules entry, a name git would refuse, or a URL that is not allowed; or when the
 * recipe lists a path that holds no submodule.
 */
export function planSubmodules(input: SubmodulePlanInput): SubmodulePlan {
  const { gitlinks, gitmodules, prefix, what, key } = input;
  const selection = prefix ? true : input.selection;
  const plan: SubmodulePlan = { fetch: [], skipped: [] };
  if (!selection) return plan;
  const listed = Array.isArray(selection) ? selection.map(trimSlashes) : undefined;
  const selected = (p: string) =>
    listed === undefined || listed.some((l) => p === l || p.startsWith(`${l}/`));
  if (listed) {
    for (const l of listed) {
      if (!gitlinks.some((g) => g.path === l || g.path.startsWith(`${l}/`))) {
        throw new SubmoduleRefusal(
          `${key}.submodules lists ${l}, but ${what} has no submodule there at this commit` +
            (gitlinks.length ? ` (it has: ${gitlinks.map((g) => g.path).join(', ')})` : ''),
          `fix ${key}.submodules, or use submodules: true for every submodule`,
        );
      }
    }
  }
  const byPath = new Map<string, GitmodulesEntry[]>();
  for (const entry of gitmodules) {
    if (entry.path === undefined) continue;
    const p = trimSlashes(entry.path);
    byPath.set(p, [...(byPath.get(p) ?? []), entry]);
  }
  for (const link of gitlinks) {
    const fullPath = join(prefix, link.path);
    if (!selected(link.path)) {
      plan.skipped.push({ fullPath, commit: link.commit, why: 'not selected' });
      continue;
    }
    if (input.sparse?.length && sparseReach(fullPath, input.sparse) === 'none') {
      plan.skipped.push({ fullPath, commit: link.commit, why: 'outside sparse' });
      continue;
    }
    const name = `submodule ${fullPath} (commit ${link.commit.slice(0, 12)})`;
    const entries = byPath.get(link.path) ?? [];
    if (entries.length !== 1) {
      throw new SubmoduleRefusal(
        entries.length === 0
          ? `${name} of ${what}: its .gitmodules has no entry with path = ${link.path}`
          : `${name} of ${what}: its .gitmodules has ${entries.length} entries with path = ${link.path}`,
        'the repo must describe each submodule in .gitmodules (git submodule add writes it)',
      );
    }
    const entry = entries[0]!;
    const nameProblem = submoduleNameProblem(entry.name);
    if (nameProblem) {
      throw new SubmoduleRefusal(
        `${name} of ${what}: its name ${JSON.stringify(entry.name)} is refused: ${nameProblem}`,
        'git refuses such names too (they could place its files outside the repository)',
      );
    }
    if (!entry.url) {
      throw new SubmoduleRefusal(
        `${name} of ${what}: its .gitmodules entry "${entry.name}" has no url`,
      );
    }
    const url = resolveSubmoduleUrl(input.parentUrl, entry.url);
    if (url === undefined) {
      throw new SubmoduleRefusal(
        `${name} of ${what}: its relative URL ${entry.url} climbs above ${input.parentUrl}`,
      );
    }
    const urlProblem = submoduleUrlProblem(url, input.parentUrl, input.allowed);
    if (urlProblem) {
      throw new SubmoduleRefusal(
        `${name} of ${what}: URL ${url} is not allowed: ${urlProblem}`,
        describeUrl(url).kind === 'network'
          ? `if you trust it, list its URL prefix in ${key}.submodule_urls`
          : 'submodules are fetched from https://, ssh://, git:// or http:// URLs only',
      );
    }
    plan.fetch.push({
      name: entry.name,
      path: link.path,
      fullPath,
      url,
      commit: link.commit,
      credentials: sharesCredentials(url, input.parentUrl),
    });
  }
  return plan;
}

/** The local ref that keeps a fetched submodule commit (named by its place in the top-level tree). */
export function submoduleRef(key: string): string {
  return `refs/gitstrap/modules/${key}`;
}

/**
 * The `git fetch` that brings one submodule commit from `url` (shallow unless `depth` is 0), asking
 * for the commit itself; `fallback` asks for every branch and tag instead, for a host that refuses
 * a fetch by commit.
 */
export function planSubmoduleFetch(
  url: string,
  commit: string,
  ref: string,
  depth: number,
  fallback = false,
): string[] {
  const refspecs = fallback
    ? [`+refs/heads/*:${ref}-scan/heads/*`, `+refs/tags/*:${ref}-scan/tags/*`]
    : [`+${commit}:${ref}`];
  return [
    '-c',
    'maintenance.auto=false',
    '-c',
    'gc.auto=0',
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-recurse-submodules',
    '--no-write-fetch-head',
    ...(depth > 0 && !fallback ? [`--depth=${depth}`] : []),
    '--',
    url,
    ...refspecs,
  ];
}

/** The environment every submodule fetch runs with: git's own rule for URLs not typed by a user. */
export const SUBMODULE_FETCH_ENV: Readonly<Record<string, string>> = {
  GIT_PROTOCOL_FROM_USER: '0',
};
