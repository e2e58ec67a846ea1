// Finds the boot stages in a serial console: when the kernel, systemd and each cloud-init stage
// started, as the host saw the lines arrive (ms since QEMU started). Pure: lines in, marks out.
import type { SerialLine } from './harness.js';

/** The stages, in boot order, and the serial line that marks each. */
export const BOOT_STAGES = [
  { stage: 'kernel', pattern: /Linux version \d/ },
  { stage: 'systemd', pattern: /systemd\[1\]: systemd \d+/ },
  { stage: 'cloud-init init-local', pattern: /Cloud-init v\. \S+ running 'init-local'/ },
  { stage: 'cloud-init init', pattern: /Cloud-init v\. \S+ running 'init'/ },
  { stage: 'cloud-init modules:config', pattern: /Cloud-init v\. \S+ running 'modules:config'/ },
  { stage: 'cloud-init modules:final', pattern: /Cloud-init v\. \S+ running 'modules:final'/ },
  // cloud-init's default final_message, or one that says "cloud-init finished" like the minimal one.
  { stage: 'cloud-init finished', pattern: /Cloud-init v\. \S+ finished at|cloud-init finished/ },
] as const;

export type BootStage = (typeof BOOT_STAGES)[number]['stage'];

/** When each stage's line first appeared in the first boot (ms since QEMU started), if it did. */
export function findBootStages(lines: readonly SerialLine[]): Partial<Record<BootStage, number>> {
  const isKernel = (l: SerialLine) => BOOT_STAGES[0].pattern.test(l.text);
  const first = lines.findIndex(isKernel);
  const second = first < 0 ? -1 : lines.findIndex((l, i) => i > first && isKernel(l));
  const firstBoot = second < 0 ? lines : lines.slice(0, second);
  const marks: Partial<Record<BootStage, number>> = {};
  for (const { stage, pattern } of BOOT_STAGES) {
    const line = firstBoot.find((l) => pattern.test(l.text));
    if (line) marks[stage] = line.ms;
  }
  return marks;
}

/** How long one step of gitstrap's first-boot script took, from its serial console lines. */
export interface FirstBootStep {
  step: string;
  startMs: number;
  /** Undefined when the step never reported done (it failed, or the boot is still running). */
  doneMs?: number;
}

const FIRST_BOOT_STEP = /gitstrap: step ([A-Za-z0-9_-]+): (started|done)/;

/** The steps of gitstrap's first-boot script ("gitstrap: step NAME: started|done"), in order. */
export function findFirstBootSteps(lines: readonly SerialLine[]): FirstBootStep[] {
  const steps: FirstBootStep[] = [];
  for (const line of lines) {
    const match = FIRST_BOOT_STEP.exec(line.text);
    if (!match?.[1]) continue;
    const step = match[1];
    if (match[2] === 'started') steps.push({ step, startMs: line.ms });
    else {
      const open = [...steps].reverse().find((s) => s.step === step && s.doneMs === undefined);
      if (open) open.doneMs = line.ms;
    }
  }
  return steps;
}

/** One mark of the agent's start, in ms since systemd began starting its unit. */
export interface AgentMark {
  mark: string;
  ms: number;
}

/**
 * The agent's start as its journal tells it (`journalctl -o json -u gitstrap@NAME`): when systemd
 * began starting the unit, then the first time each of the agent's own JSON log events appeared,
 * in ms since that start (journald's monotonic clock, so guest clock changes do not matter).
 */
export function findAgentTimeline(journalJson: string): AgentMark[] {
  const marks: AgentMark[] = [];
  let startUs: number | undefined;
  for (const line of journalJson.split('\n')) {
    if (!line.trim()) continue;
    let entry: { MESSAGE?: unknown; __MONOTONIC_TIMESTAMP?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const us = Number(entry.__MONOTONIC_TIMESTAMP);
    const message = typeof entry.MESSAGE === 'string' ? entry.MESSAGE : '';
    if (!Number.isFinite(us)) continue;
    if (startUs === undefined) {
      if (!/^Start(ing|ed) gitstrap@/.test(message)) continue;
      startUs = us;
      marks.push({ mark: 'unit starting', ms: 0 });
      continue;
    }
    const event = agentEvent(message);
    const mark = event ?? (/^Started gitstrap@/.test(message) ? 'unit started' : undefined);
    if (mark && !marks.some((m) => m.mark === mark)) {
      marks.push({ mark, ms: Math.round((us - startUs) / 1000) });
    }
  }
  return marks;
}

function agentEvent(message: string): string | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const event = (JSON.parse(message) as { event?: unknown }).event;
    return typeof event === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}
