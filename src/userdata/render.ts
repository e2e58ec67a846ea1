// renderUserData: a validated recipe to the cloud-init user-data that turns a fresh instance into
// the service. Pure apart from reading the templates in userdata/; `bootstrap userdata` prints it
// and `bootstrap launch` sends it.
import { Document, isScalar, visit } from 'yaml';
import { GitstrapError } from '../lib/errors.js';
import type { Recipe } from '../recipe/schema.js';
import { compressedFile, serializeCloudConfig, textFile, type WriteFile } from './cloud-config.js';
import { planExpiry, planFirstBootArgs } from './first-boot.js';
import {
  assertCarriable,
  assertNoCredentials,
  assertTextHasNoCredentials,
  findUncarriable,
} from './guard.js';
import { compactShell } from './compact.js';
import { buildMultipart } from './multipart.js';
import { INSTANCE_PATHS, recipePath, START_FAILURE_FILE } from '../lib/instance-paths.js';
import { packUserData } from './ec2-limit.js';
import { loadTemplates, type Templates } from './templates.js';

export type UserDataFormat = 'cloud-config' | 'mime';

export interface UserDataOptions {
  /** The gitstrap version; the default agent source is npm:gitstrap@<version>. */
  version: string;
  /** cloud-config (default), or MIME multipart with the first boot as a shell-script part. */
  format?: UserDataFormat;
  /** true: always; false: never; 'auto' (default): only when over EC2's 16,384 bytes. */
  gzip?: boolean | 'auto';
  /** The deployment's absolute end; without it first boot counts the recipe's ttl from then. */
  expiresAt?: Date;
  /** Installer mode: canonical boot parameters, as a "# bootparams=" line after "#cloud-config". */
  bootparams?: string;
  /** How long first boot waits for the agent to answer (default 600 s). */
  healthTimeoutSeconds?: number;
  /** The templates folder (default: the package's userdata/). */
  templatesDir?: string;
}

export interface RenderedUserData {
  /** What to send to EC2 (gzipped or not). */
  body: Buffer;
  format: UserDataFormat;
  gzipped: boolean;
  /** Bytes of the uncompressed user-data. */
  rawBytes: number;
  /** Bytes of the user-data gzipped (whether or not the body is). */
  gzippedBytes: number;
  /** Bytes of the body. */
  bytes: number;
  /** The uncompressed user-data. */
  text: string;
}

/** Renders the user-data for a validated recipe; throws GitstrapError when it cannot be sent. */
export function renderUserData(recipe: Recipe, options: UserDataOptions): RenderedUserData {
  const format = options.format ?? 'cloud-config';
  checkVersion(options.version);
  const optionValues = {
    version: options.version,
    ...(options.bootparams !== undefined ? { bootparams: options.bootparams } : {}),
  };
  assertCarriable(recipe);
  assertCarriable(optionValues, 'option');
  assertNoCredentials(recipe, optionValues);

  const expiry = planExpiry(recipe, options.expiresAt);
  const args = planFirstBootArgs(recipe, {
    version: options.version,
    expiry,
    ...(options.healthTimeoutSeconds !== undefined
      ? { healthTimeoutSeconds: options.healthTimeoutSeconds }
      : {}),
  });
  const templates = loadTemplates(options.templatesDir);
  const files = planWriteFiles(recipe, templates, {
    expires: expiry !== undefined,
    // MIME keeps its cloud-config part ASCII, so the bootparams line stays readable as text.
    asciiOnly: format === 'mime',
  });

  const serialize = (writeFiles: WriteFile[]) =>
    format === 'cloud-config'
      ? serializeCloudConfig(
          { write_files: writeFiles, runcmd: [['sh', INSTANCE_PATHS.firstBoot, ...args]] },
          options.bootparams,
        )
      : buildMultipart([
          {
            contentType: 'text/cloud-config',
            filename: 'cloud-config.yaml',
            content: serializeCloudConfig({ write_files: writeFiles }, options.bootparams),
          },
          {
            contentType: 'text/x-shellscript',
            filename: 'gitstrap-first-boot.sh',
            content: templates.firstBootPart({ script: INSTANCE_PATHS.firstBoot, args }),
          },
        ]);
  const text = serialize(files);
  assertTextHasNoCredentials(text);
  const unreadable = findUncarriable(text);
  if (unreadable) throw new Error(`rendered user-data contains ${unreadable}`);
  return { ...packUserData(text, options.gzip ?? 'auto'), format, text };
}

/** The files cloud-init writes before first boot runs: the recipe and the first-boot script. The
 * units are not here: the script writes the expiry timer (it must run even when no Node.js can be
 * installed) and `bootstrap first-boot` the agent's unit (src/userdata/agent-unit.ts). Pure. */
export function planWriteFiles(
  recipe: Recipe,
  templates: Templates,
  options: { expires: boolean; asciiOnly?: boolean },
): WriteFile[] {
  return [
    textFile(recipePath(recipe.name), recipeFileText(recipe), '0644', {
      asciiOnly: options.asciiOnly ?? false,
    }),
    // The script travels gzip+base64, about half its size, so that user-data stays text a person
    // can paste (the recipe readable) well within EC2's 16,384 bytes. firstBootScript() is it.
    compressedFile(
      textFile(
        INSTANCE_PATHS.firstBoot,
        firstBootScript(recipe, templates, { expires: options.expires }),
        '0755',
      ),
    ),
  ];
}

/** The choices the first-boot template renders code for. */
export interface FirstBootFlags {
  expires: boolean;
  npm: boolean;
  url: boolean;
  image: boolean;
  official: boolean;
  fetch: boolean;
  lfs: boolean;
}

/** What the first-boot template is rendered with: the instance paths and the recipe's choices. */
export function firstBootContext(flags: FirstBootFlags): object {
  return { paths: INSTANCE_PATHS, startFailure: START_FAILURE_FILE, ...flags };
}

/** The first-boot script a recipe's user-data carries (before its gzip+base64): only the code the
 * recipe's choices need (ttl, agent.source, agent.node, Git LFS). Pure. */
export function firstBootScript(
  recipe: Recipe,
  templates: Templates,
  options: { expires: boolean },
): string {
  const source = recipe.agent.source;
  const agent = source === 'image' ? 'image' : typeof source === 'object' ? 'url' : 'npm';
  const official = recipe.agent.node === 'official';
  return compactShell(
    templates.firstBoot(
      firstBootContext({
        expires: options.expires,
        npm: agent === 'npm',
        url: agent === 'url',
        image: agent === 'image',
        official,
        // curl downloads: the agent bundle, an official Node.js build.
        fetch: agent === 'url' || official,
        // git-lfs is installed only when the recipe keeps files in Git LFS.
        lfs: recipe.service.lfs === true || recipe.data?.lfs === true,
      }),
    ),
  );
}

/**
 * The resolved recipe as the instance gets it: YAML, defaults filled in. Lists of plain values are
 * written on one line ([npm, run, build]): the same data in fewer bytes of EC2's 16 KB.
 */
export function recipeFileText(recipe: Recipe): string {
  const doc = new Document(recipe);
  visit(doc, {
    Seq(_key, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return (
    '# Resolved by bootstrap userdata: defaults filled in, --set applied.\n' +
    doc.toString({ lineWidth: 0, flowCollectionPadding: false })
  );
}

function checkVersion(version: string): void {
  if (!/^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/.test(version)) {
    throw new GitstrapError(`not a gitstrap version: ${JSON.stringify(version)}`);
  }
}
