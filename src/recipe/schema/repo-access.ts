// How a repository is reached, for the service and the data repo alike: the credentials of a
// private repository (where they live on the instance, never the value), submodules and Git LFS.
import * as z from 'zod';
import { CONTROL, instancePath, relativePath } from './blocks.js';

export const repoAuth = z
  .strictObject({
    ssh_key_file: instancePath
      .optional()
      .describe('Path on the instance of an SSH deploy key (mode 0600, owned by the agent user).'),
    known_hosts: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Pinned SSH host keys, in known_hosts format ("host type key"); required with ssh_key_file.',
      ),
    token_file: instancePath
      .optional()
      .describe(
        'Path on the instance of a file holding an HTTPS token (sent as a header, never logged).',
      ),
    ssm_parameter: z
      .string()
      .regex(/^\/?[A-Za-z0-9_.\-/]+$/, {
        error: 'expected an SSM parameter name such as /gitstrap/app/token',
      })
      .optional()
      .describe('An SSM Parameter Store name (SecureString) read with the instance role at boot.'),
  })
  .describe(
    'Where the credential for a private repository lives on the instance. Never the credential itself.',
  );

/** Which submodules to fetch: every one the commit pins, or those at (or under) these paths. */
export const submodules = z
  .union([z.boolean(), z.array(relativePath).min(1)])
  .optional()
  .describe(
    "Fetch the submodules the commit pins, at those commits (shallow where the host allows), recursively: true for all, or a list of paths (a submodule at or under a listed path, and the submodules inside it). Relative URLs are resolved against the repo's URL; only URLs on the repo's own host (or under submodule_urls) are fetched, never local paths or file://. The repo's credentials go only to its own scheme, host and port.",
  );

/** A URL prefix submodules may be fetched from besides the repo's own host. */
export const submoduleUrlPrefix = z
  .string()
  .refine((v) => !CONTROL.test(v) && !/\s/.test(v), {
    error: 'must not contain spaces or control characters',
  })
  .refine((v) => /^(https?|git|ssh):\/\/[^/\s]+/.test(v) || /^[\w.-]+@[\w.-]+:/.test(v), {
    error: 'expected a URL prefix with a scheme and host (https://, ssh://, git://, git@host:)',
  })
  .describe('A URL prefix, e.g. https://gitlab.com/acme/ (a URL equal to it, or under it).');

export const submoduleUrls = z
  .array(submoduleUrlPrefix)
  .optional()
  .describe(
    "With submodules: URL prefixes on other hosts than the repo's that submodules may be fetched from (no credentials are sent there).",
  );
