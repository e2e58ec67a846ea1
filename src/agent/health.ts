// Health: the service answers 2xx on serve.health, the first data version is live, and the data
// syncs have not failed more times in a row than the recipe's failure budget allows.
import http from 'node:http';

/** What health is computed from. */
export interface HealthInputs {
  serviceUp: boolean;
  /** Why the last probe failed, if it did. */
  serviceProblem?: string;
  /** undefined when the recipe has no data repo. */
  dataLive?: boolean;
  consecutiveSyncFailures: number;
  failureBudget: number;
  /** The agent is still cloning or installing. */
  starting?: string;
}

/** /_gitstrap/healthz's answer: ok only when every part is ready. Pure. */
export function healthReport(inputs: HealthInputs): { ok: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (inputs.starting) reasons.push(inputs.starting);
  if (!inputs.serviceUp) {
    reasons.push(
      `service not answering 2xx${inputs.serviceProblem ? `: ${inputs.serviceProblem}` : ''}`,
    );
  }
  if (inputs.dataLive === false) reasons.push('no data version live yet');
  if (inputs.consecutiveSyncFailures >= inputs.failureBudget) {
    reasons.push(
      `${inputs.consecutiveSyncFailures} data syncs failed in a row (failure budget ${inputs.failureBudget})`,
    );
  }
  return { ok: reasons.length === 0, reasons };
}

/** How many of the newest results are failures, up to the first success. */
export function consecutiveFailures(history: ReadonlyArray<{ outcome: string }>): number {
  let n = 0;
  for (const result of history) {
    if (result.outcome !== 'failed') break;
    n += 1;
  }
  return n;
}

/** GETs a URL once; resolves with undefined when it answers 2xx, else with why not. */
export function probeHttp(url: string, timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      const code = response.statusCode ?? 0;
      resolve(code >= 200 && code < 300 ? undefined : `HTTP ${code}`);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** A running health probe. */
export interface HealthProbe {
  up(): boolean;
  problem(): string | undefined;
  /** Resolves when the service first answers 2xx (or the probe stops). */
  firstUp: Promise<void>;
  stop(): void;
}

/** Probes `url` every `fastMs` until it is up, then every `slowMs`. */
export function startHealthProbe(
  url: string,
  options: {
    fastMs?: number;
    slowMs?: number;
    onChange?: (up: boolean, problem: string | undefined) => void;
    probe?: (url: string) => Promise<string | undefined>;
  } = {},
): HealthProbe {
  const fast = options.fastMs ?? 250;
  const slow = options.slowMs ?? 5000;
  const probe = options.probe ?? ((u: string) => probeHttp(u));
  let up = false;
  let problem: string | undefined = 'not probed yet';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let markUp: () => void = () => {};
  const firstUp = new Promise<void>((resolve) => (markUp = resolve));
  const tick = async () => {
    const result = await probe(url);
    if (stopped) return;
    const nowUp = result === undefined;
    if (nowUp !== up || result !== problem) options.onChange?.(nowUp, result);
    up = nowUp;
    problem = result;
    if (up) markUp();
    timer = setTimeout(() => void tick(), up ? slow : fast);
  };
  void tick();
  return {
    up: () => up,
    problem: () => problem,
    firstUp,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      markUp();
    },
  };
}
