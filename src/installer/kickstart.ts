// renderKickstart: a recipe to an Anaconda kickstart whose %post leaves the installed machine set
// up exactly as cloud-init leaves a cloud instance: the same recipe file, first-boot script and
// units (planWriteFiles, the user-data renderer's own plan), and that first-boot script run once
// with the same arguments, at first boot, by a one-shot unit. Pure apart from reading templates.
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GitstrapError } from '../lib/errors.js';
import type { Recipe } from '../recipe/schema.js';
import { planExpiry, planFirstBootArgs } from '../userdata/first-boot.js';
import { INSTANCE_PATHS } from '../lib/instance-paths.js';
import { planWriteFiles } from '../userdata/render.js';
import { compileTemplateFile, defaultTemplatesDir, loadTemplates } from '../userdata/templates.js';

/** The kickstart template, in gitstrap's userdata/ folder. */
export const KICKSTART_TEMPLATE = 'kickstart.ks.hbs';
/** What the installed system runs once at first boot: the first-boot script with its arguments. */
export const KICKSTART_LAUNCHER = INSTANCE_PATHS.kickstartFirstBoot;
export const FIRST_BOOT_UNIT = 'gitstrap-first-boot.service';

export interface KickstartOptions {
  /** The gitstrap version; the default agent source is npm:gitstrap@<version>. */
  version: string;
  /** Install onto this disk only (e.g. vdb); default: every disk. */
  disk?: string;
  /** The templates folder (default: the package's userdata/). */
  templatesDir?: string;
}

/** One file %post writes: absolute path, octal mode, content. */
export interface KickstartFile {
  path: string;
  mode: string;
  content: Buffer;
}

const DISK = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$/;

/** The one-shot unit that runs the first-boot script at the installed system's first boot. */
export function firstBootUnit(): string {
  return `# gitstrap: runs the first-boot script once, at the first boot after the kickstart install.
[Unit]
Description=gitstrap first boot (installed by kickstart)
Wants=network-online.target
After=network-online.target
ConditionPathExists=!${INSTANCE_PATHS.result}

[Service]
Type=oneshot
ExecStart=/bin/sh ${KICKSTART_LAUNCHER}
RemainAfterExit=yes
TimeoutStartSec=3600
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
`;
}

/** A write_files entry's bytes, as cloud-init would write them (b64, gz+b64 or plain text). */
function decoded(f: { encoding?: 'b64' | 'gz+b64'; content: string }): Buffer {
  if (f.encoding === 'gz+b64') return gunzipSync(Buffer.from(f.content, 'base64'));
  if (f.encoding === 'b64') return Buffer.from(f.content, 'base64');
  return Buffer.from(f.content);
}

/** Every file the kickstart's %post writes, in order. Pure apart from reading templates. */
export function planKickstartFiles(recipe: Recipe, options: KickstartOptions): KickstartFile[] {
  const templates = loadTemplates(options.templatesDir);
  const expiry = planExpiry(recipe);
  const args = planFirstBootArgs(recipe, { version: options.version, expiry });
  const files: KickstartFile[] = planWriteFiles(recipe, templates, {
    expires: expiry !== undefined,
  }).map((f) => ({
    path: f.path,
    mode: f.permissions,
    content: decoded(f),
  }));
  files.push(
    {
      path: KICKSTART_LAUNCHER,
      mode: '0755',
      content: Buffer.from(templates.firstBootPart({ script: INSTANCE_PATHS.firstBoot, args })),
    },
    {
      path: `${INSTANCE_PATHS.unitDir}/${FIRST_BOOT_UNIT}`,
      mode: '0644',
      content: Buffer.from(firstBootUnit()),
    },
  );
  return files;
}

/** The kickstart text for a validated recipe. */
export function renderKickstart(recipe: Recipe, options: KickstartOptions): string {
  if (options.disk !== undefined && !DISK.test(options.disk)) {
    throw new GitstrapError(`--disk ${JSON.stringify(options.disk)} is not a disk name`, {
      hint: 'give a device name such as vdb, sdb or disk/by-id/virtio-vol-1',
    });
  }
  const files = planKickstartFiles(recipe, options);
  const template = compileTemplateFile(
    path.join(options.templatesDir ?? defaultTemplatesDir(), KICKSTART_TEMPLATE),
    'kickstart template',
    { shell: true },
  );
  return template({
    name: recipe.name,
    firewallPort: `${recipe.serve.port}:tcp`,
    disk: options.disk,
    firstBootUnit: FIRST_BOOT_UNIT,
    files: files.map((f) => ({ path: f.path, mode: f.mode, base64: f.content.toString('base64') })),
  });
}
