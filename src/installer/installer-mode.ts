// Installer mode for `bootstrap userdata --installer`: the boot parameters the user-data carries,
// from --ks/--bootparams (which win) or the recipe's installer.ks/installer.bootparams, checked
// against installer.allow. Pure.
import { UsageError } from '../lib/errors.js';
import type { Recipe } from '../recipe/schema.js';
import { buildBootParams, type ParsedBootParams } from './bootparams.js';

export interface InstallerFlags {
  installer: boolean;
  ks?: string | undefined;
  bootparams?: string | undefined;
}

/** The canonical boot parameters for the user-data, or undefined when not in installer mode. */
export function planInstallerBootParams(
  recipe: Recipe,
  flags: InstallerFlags,
): ParsedBootParams | undefined {
  if (!flags.installer) {
    if (flags.ks !== undefined || flags.bootparams !== undefined) {
      throw new UsageError(
        '--ks and --bootparams apply to installer mode',
        'add --installer (and see docs/installer.md)',
      );
    }
    return undefined;
  }
  const ks = flags.ks ?? recipe.installer?.ks;
  if (ks === undefined) {
    throw new UsageError(
      'installer mode needs a kickstart URL',
      'pass --ks URL (e.g. the file `bootstrap kickstart` wrote, served over http) or set installer.ks in the recipe',
    );
  }
  const bootparams = flags.bootparams ?? recipe.installer?.bootparams;
  const allow = recipe.installer?.allow;
  return buildBootParams({
    ks,
    ...(bootparams !== undefined ? { bootparams } : {}),
    ...(allow ? { allow } : {}),
  });
}
