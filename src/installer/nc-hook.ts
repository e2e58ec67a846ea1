// The Eucalyptus node-controller hook: on `euca-nc-pre-boot` (libvirt.xml written, not yet used)
// it reads the instance's user-data from instance.xml, finds its `bootparams=` line, checks it with
// the boot-parameter grammar and appends it to libvirt.xml's <os><cmdline>. The plan is pure; the
// runner reads the two files and replaces libvirt.xml atomically, keeping libvirt.xml.orig. Any
// problem leaves every file as it was.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { GitstrapError } from '../lib/errors.js';
import { writeAtomic } from './atomic-write.js';
import { parseBootParams } from './bootparams.js';
import { readInstanceUserData, rewriteCmdline } from './libvirt-xml.js';
import { findBootParams } from './user-data.js';

/** The one event the hook acts on. */
export const PRE_BOOT_EVENT = 'euca-nc-pre-boot';
/** Where the node's administrator may list the allowed parameter names, relative to EUCA_HOME. */
export const ALLOW_FILE = 'etc/eucalyptus/gitstrap-bootparams.allow';

export type NcHookAction =
  'ignored-event' | 'no-user-data' | 'no-bootparams' | 'already-applied' | 'rewritten';

/** What the hook decided, and the new libvirt.xml when it rewrites it. */
export interface NcHookPlan {
  action: NcHookAction;
  warnings: string[];
  /** The parameters appended (canonical form). */
  bootparams?: string;
  /** The kernel command line after the hook. */
  cmdline?: string;
  /** The new libvirt.xml text (action "rewritten"). */
  xml?: string;
}

/** Decides what the hook does for an instance, from the two files' text. Pure. */
export function planNcHook(input: {
  instanceXml: string;
  libvirtXml: string;
  allow?: readonly string[];
}): NcHookPlan {
  const userData = readInstanceUserData(input.instanceXml);
  if (!userData) return { action: 'no-user-data', warnings: [] };
  const found = findBootParams(userData);
  if (!found) return { action: 'no-bootparams', warnings: [] };
  const parsed = parseBootParams(found.text, {
    source: found.where,
    ...(input.allow ? { allow: input.allow } : {}),
  });
  const rewrite = rewriteCmdline(input.libvirtXml, parsed.canonical);
  return {
    action: rewrite.unchanged ? 'already-applied' : 'rewritten',
    warnings: parsed.warnings,
    bootparams: parsed.canonical,
    cmdline: rewrite.after,
    ...(rewrite.unchanged ? {} : { xml: rewrite.xml }),
  };
}

/** Reads an allowlist file: one parameter name (or prefix ending in "*") per line, # comments. */
export function parseAllowList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

export interface NcHookArgs {
  event: string;
  eucaHome?: string;
  instancePath?: string;
  /** Allowed parameter names; when undefined, EUCA_HOME/ALLOW_FILE is read if it exists. */
  allow?: readonly string[];
}

/** Runs the hook for one event against the instance folder; returns what it did. */
export function runNcHook(args: NcHookArgs): NcHookPlan {
  if (args.event !== PRE_BOOT_EVENT) return { action: 'ignored-event', warnings: [] };
  if (!args.instancePath) {
    throw new GitstrapError(`${PRE_BOOT_EVENT} needs the instance path`, {
      hint: 'the node controller calls: HOOK euca-nc-pre-boot EUCA_HOME INSTANCE_PATH',
    });
  }
  const instanceFile = path.join(args.instancePath, 'instance.xml');
  const libvirtFile = path.join(args.instancePath, 'libvirt.xml');
  const allow = args.allow ?? readAllowFile(args.eucaHome);
  let plan: NcHookPlan;
  try {
    plan = planNcHook({
      instanceXml: readText(instanceFile),
      libvirtXml: readText(libvirtFile),
      ...(allow ? { allow } : {}),
    });
  } catch (error) {
    if (error instanceof GitstrapError) {
      throw new GitstrapError(error.message, {
        details: [...error.details, `${libvirtFile} was left unchanged`],
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    throw error;
  }
  if (plan.action === 'rewritten' && plan.xml !== undefined) {
    const original = readFileSync(libvirtFile);
    const { mode } = statSync(libvirtFile);
    writeAtomic(`${libvirtFile}.orig`, original, mode);
    writeAtomic(libvirtFile, Buffer.from(plan.xml, 'utf8'), mode);
  }
  return plan;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new GitstrapError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function readAllowFile(eucaHome: string | undefined): string[] | undefined {
  if (!eucaHome) return undefined;
  const file = path.join(eucaHome, ALLOW_FILE);
  if (!existsSync(file)) return undefined;
  return parseAllowList(readText(file));
}
