// One generation of what is served: the real paths of the service folder and the data version,
// resolved once and used for every file of a response, with the cache filled from them. A publish
// (invalidate(), or a changed real path noticed on a recheck) starts a new generation, so a
// response never mixes two versions and the cache never outlives the files it came from.
import type { Fill } from './fast-path.js';
import { FileCache } from './file-cache.js';
import { realFolder } from './resolve-file.js';

/** Paths known to fall through to Express in this generation are remembered, up to this many. */
const MAX_PASSES = 10_000;

/** The served folders and the cache of one generation. */
export class Generation {
  readonly cache: FileCache;
  /** Paths the fast path leaves to Express (folders, large files, missing files). */
  readonly passes = new Set<string>();
  /** Paths whose give-up the fast path has logged (so it logs each once per generation). */
  private readonly noticed = new Set<string>();
  /** Fills under way, so concurrent misses for one path read it once. */
  readonly filling = new Map<string, Promise<Fill>>();
  /** False while a folder is still missing; such a generation is re-checked on every request. */
  complete = true;

  constructor(
    readonly id: number,
    readonly serviceRoot: string | undefined,
    readonly dataRoot: string | undefined,
    maxBytes: number,
  ) {
    this.cache = new FileCache(maxBytes);
  }

  /** Remembers that `path` is not for the fast path. */
  pass(path: string): void {
    if (this.passes.size >= MAX_PASSES) this.passes.clear();
    this.passes.add(path);
  }

  /** True the first time it is asked about `path` in this generation. */
  firstNotice(path: string): boolean {
    if (this.noticed.has(path)) return false;
    if (this.noticed.size >= MAX_PASSES) this.noticed.clear();
    this.noticed.add(path);
    return true;
  }
}

export interface GenerationSource {
  serviceDir: () => string | undefined;
  dataDir?: () => string | undefined;
  maxBytes: number;
  recheckMs: number;
  now?: () => number;
}

/** Hands out the current generation; re-resolves the folders at most every recheckMs. */
export class Generations {
  private generation: Generation | undefined;
  private nextCheck = 0;
  private count = 0;
  private readonly now: () => number;

  constructor(private readonly source: GenerationSource) {
    this.now = source.now ?? Date.now;
  }

  /** The generation a request should use from start to end. */
  current(): Generation {
    const gen = this.generation;
    if (
      gen !== undefined &&
      gen.complete &&
      this.source.recheckMs > 0 &&
      this.now() < this.nextCheck
    ) {
      return gen;
    }
    const serviceRoot = realFolder(safeCall(this.source.serviceDir));
    const dataRoot = realFolder(this.source.dataDir ? safeCall(this.source.dataDir) : undefined);
    this.nextCheck = this.now() + this.source.recheckMs;
    if (gen !== undefined && gen.serviceRoot === serviceRoot && gen.dataRoot === dataRoot)
      return gen;
    this.generation = new Generation(++this.count, serviceRoot, dataRoot, this.source.maxBytes);
    // Until both folders exist (first clone, first data version), look again on every request.
    this.generation.complete =
      serviceRoot !== undefined && (dataRoot !== undefined || !this.source.dataDir);
    return this.generation;
  }

  /** Drops the current generation: the next request re-resolves the folders with an empty cache. */
  invalidate(): void {
    this.generation = undefined;
    this.nextCheck = 0;
  }
}

function safeCall(get: () => string | undefined): string | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}
