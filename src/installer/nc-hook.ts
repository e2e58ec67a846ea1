// The Eucalyptus node-controller hook: on `euca-nc-pre-boot` (libvirt.xml written, not yet used)
// it reads the instance's user-data from instance.xml, finds its `bootparams=` line, checks it with
// the boot-parameter grammar and appends it to the <os><cmdline> of the original libvirt.xml. The
// original is kept once as libvirt.xml.orig and every later run starts from it, so running the hook
// again (with the same, other or no parameters) gives what one run on the original gives. The plan
// is pure; the runner reads the files and replaces libvirt.xml atomically. Any problem leaves every
// file as it was.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { GitstrapError } from '../lib/errors.js';
import { writeAtomic } from './atomic-write.js';
import { parseBootParams } from './bootparams.js';
import {
  readCmdline,
  readInstanceUserData,
  rewriteCmdline,
  textOutsideCmdline,
} from './libvirt-xml.js';
import { findBootParams } from './find-bootparams.js';

/** The one event the hook acts on. */
export const PRE_BOOT_EVENT = 'euca-nc-pre-boot';
/** Where the node's administrator may list the allowed parameter names, relative to EUCA_HOME. */
export const ALLOW_FILE = 'etc/eucalyptus/gitstrap-bootparams.allow';
/** The suffix of the kept original libvirt.xml. */
export const ORIGINAL_SUFFIX = '.orig';

export type NcHookAction =
  'ignored-event' | 'no-user-data' | 'no-bootparams' | 'already-applied' | 'rewritten' | 'restored';

/** What the hook decided, and the new libvirt.xml when it writes one. */
export interface NcHookPlan {
  action: NcHookAction;
  warnings: string[];
  /** The parameters appended (canonical form). */
  bootparams?: string;
  /** The kernel command line after the hook. */
  cmdline?: string;
  /** The new libvirt.xml text (actions "rewritten" and "restored"). */
  xml?: string;
  /** True when the runner must first keep the current libvirt.xml as libvirt.xml.orig. */
  keepOriginal?: boolean;
}

/**
 * Decides what the hook does for an instance, from the files' text: instance.xml, libvirt.xml and,
 * when a run before kept it, libvirt.xml.orig. The result depends only on the original and the
 * user-data. Pure.
 */
export function planNcHook(input: {
  instanceXml: string;
  libvirtXml: string;
  originalXml?: string;
  allow?: readonly string[];
}): NcHookPlan {
  const { libvirtXml, originalXml } = input;
  const userData = readInstanceUserData(input.instanceXml);
  const found = userData ? findBootParams(userData) : undefined;
  const parsed = found
    ? parseBootParams(found.text, {
        source: found.where,
        ...(input.allow ? { allow: input.allow } : {}),
      })
    : undefined;
  const idle: NcHookAction = userData ? 'no-bootparams' : 'no-user-data';
  if (originalXml === undefined && !parsed) return { action: idle, warnings: [] };
  if (originalXml !== undefined) checkDerived(libvirtXml, originalXml);
  const original = originalXml ?? libvirtXml;
  const warnings = parsed?.warnings ?? [];
  if (!parsed) {
    const cmdline = readCmdline(original, `libvirt.xml${ORIGINAL_SUFFIX}`);
    const base = { warnings, ...(cmdline !== undefined ? { cmdline } : {}) };
    if (libvirtXml === original) return { action: idle, ...base };
    return { action: 'restored', ...base, xml: original };
  }
  const file = originalXml === undefined ? 'libvirt.xml' : `libvirt.xml${ORIGINAL_SUFFIX}`;
  const rewrite = rewriteCmdline(original, parsed.canonical, file);
  const plan = { warnings, bootparams: parsed.canonical, cmdline: rewrite.after };
  if (rewrite.xml === libvirtXml) return { action: 'already-applied', ...plan };
  return {
    action: 'rewritten',
    ...plan,
    xml: rewrite.xml,
    ...(originalXml === undefined ? { keepOriginal: true } : {}),
  };
}

/** Refuses a libvirt.xml that is not the kept original with (at most) its <cmdline> changed. */
function checkDerived(libvirtXml: string, originalXml: string): void {
  const original = `libvirt.xml${ORIGINAL_SUFFIX}`;
  if (textOutsideCmdline(libvirtXml) === textOutsideCmdline(originalXml, original)) return;
  throw new GitstrapError(`libvirt.xml differs from ${original} outside <cmdline>`, {
    details: [
      `the hook keeps the original as ${original} and writes libvirt.xml from it; something else wrote libvirt.xml since`,
    ],
    hint: `if libvirt.xml is the node controller's fresh file, remove ${original} and run the hook again`,
  });
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
  const originalFile = `${libvirtFile}${ORIGINAL_SUFFIX}`;
  const allow = args.allow ?? readAllowFile(args.eucaHome);
  let libvirt: Buffer;
  let plan: NcHookPlan;
  try {
    libvirt = readBytes(libvirtFile);
    plan = planNcHook({
      instanceXml: readText(instanceFile),
      libvirtXml: utf8Of(libvirt, libvirtFile),
      ...(existsSync(originalFile)
        ? { originalXml: utf8Of(readBytes(originalFile), originalFile) }
        : {}),
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
  if (plan.xml !== undefined) {
    const { mode } = statSync(libvirtFile);
    // Kept once, never replaced: a second hook writing it at the same moment fails here.
    if (plan.keepOriginal) writeAtomic(originalFile, libvirt, mode, { create: true });
    writeAtomic(libvirtFile, Buffer.from(plan.xml, 'utf8'), mode);
  }
  return plan;
}

function readText(file: string): string {
  return readBytes(file).toString('utf8');
}

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new GitstrapError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** The text of a file that must be UTF-8 (libvirt writes it so), to splice it byte for byte. */
function utf8Of(bytes: Buffer, file: string): string {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new GitstrapError(`${file}: not UTF-8 text`, {
      hint: 'libvirt writes its domain XML in UTF-8; the file may be damaged',
    });
  }
  return text;
}

function readAllowFile(eucaHome: string | undefined): string[] | undefined {
  if (!eucaHome) return undefined;
  const file = path.join(eucaHome, ALLOW_FILE);
  if (!existsSync(file)) return undefined;
  return parseAllowList(readText(file));
}
