// Section data: the data repo, how each version is built and checked on the instance, when it is
// synced; and section publish, the publisher's side of the same repo.
import * as z from 'zod';
import { CONTROL, argv, duration, gitRef, instancePath, relativePath, repoUrl } from './blocks.js';
import { repoAuth, submodules, submoduleUrls } from './repo-access.js';

export const dataTransform = z
  .strictObject({
    extract: relativePath
      .optional()
      .describe('A tar, tar.gz or tgz archive in the data checkout to extract.'),
    into: relativePath.default('.').describe('With extract: the folder to extract into.'),
    strip: z
      .int()
      .min(0)
      .max(16)
      .default(0)
      .describe('With extract: leading path components to strip.'),
    keep_archive: z
      .boolean()
      .default(false)
      .describe('With extract: keep the archive after extracting it.'),
    copy: z
      .strictObject({ from: relativePath, to: relativePath })
      .optional()
      .describe('Copy a file or folder.'),
    move: z
      .strictObject({ from: relativePath, to: relativePath })
      .optional()
      .describe('Move or rename a file or folder.'),
    run: argv.optional().describe('A command run in the staging folder ({data} is that folder).'),
    timeout: duration.default('5m'),
  })
  .describe(
    'One transform, applied in the staging folder: exactly one of extract, copy, move or run.',
  );

export const dataCheck = z
  .strictObject({
    exists: relativePath.optional().describe('This file or folder must exist.'),
    json: relativePath.optional().describe('This file must parse as JSON.'),
    run: argv.optional().describe('This command must exit 0 (run in the staging folder).'),
    timeout: duration.default('1m'),
  })
  .describe(
    'One check a new version must pass before it is published: exactly one of exists, json or run.',
  );

export const notify = z
  .strictObject({
    signal: z
      .enum(['SIGHUP', 'SIGUSR1', 'SIGUSR2'])
      .optional()
      .describe('Send this signal to the service process (process and node runtimes).'),
    run: argv.optional().describe('Run this command.'),
    http: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { error: 'expected an http:// or https:// URL' })
      .optional()
      .describe(
        'POST to this URL ({port} is the service port), e.g. http://127.0.0.1:{port}/reload.',
      ),
  })
  .describe(
    'How the service is told that a new data version is live: exactly one of signal, run or http.',
  );

/** What the `extract` transforms of one version may write, counted over all of them. */
export const dataLimits = z
  .strictObject({
    max_bytes: z
      .string()
      .regex(/^\d+(b|kb|mb|gb)$/, { error: 'expected a size such as 512mb or 2gb' })
      .default('256mb')
      .describe(
        'The most bytes the archives of one version may expand to (their uncompressed tar streams, added up over every extract), Git LFS files included (data.lfs); a gzip bomb stops here.',
      ),
    max_files: z
      .int()
      .min(1)
      .default(100_000)
      .describe(
        'The most members (files, folders and links) the archives of one version may hold, added up over every extract, Git LFS files included (data.lfs).',
      ),
  })
  .describe(
    'Limits on what extract transforms and Git LFS write for one version; a version over a limit is not published. Without this key the defaults apply.',
  );

/** Where the agent pulls data versions from: the data repo itself (git, the default), or a static mirror. */
export const dataSource = z
  .strictObject({
    static: z
      .string()
      .refine((v) => !CONTROL.test(v) && !/\s/.test(v), {
        error: 'must not contain spaces or control characters',
      })
      .refine((v) => /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(v), {
        error: 'expected an http:// or https:// URL of a folder, without ?query or #fragment',
      })
      .describe(
        'The URL of the folder `bootstrap publish` mirrors into (publish.mirror), served by any HTTP host, S3 or a CDN, e.g. https://cdn.example/open-qa/. A poll is a conditional GET of its gitstrap-data.json (an unchanged version answers 304 and runs no git); a new version is one git bundle, checked against the sha256 and the commit the pointer names before it is built. No credentials are sent. Not with data.submodules, data.lfs, data.sparse or data.filter, nor a data.ref that pins a commit.',
      ),
  })
  .describe(
    'Where the agent pulls data versions from. Without this key: from data.repo with git. With static: from the static mirror of data.repo (data.repo stays the repo of record).',
  );

export const data = z
  .strictObject({
    repo: repoUrl.describe('Where the data lives.'),
    source: dataSource.optional(),
    ref: gitRef.default('main'),
    mount: relativePath
      .refine((v) => v.split('/').every((s) => s !== '' && !s.startsWith('.')), {
        error: 'must not be empty or contain a segment starting with "."',
      })
      .describe(
        'The path in the service where the current data version appears (and the URL prefix for static).',
      ),
    depth: z
      .int()
      .min(0)
      .default(1)
      .describe('Fetch depth; 0 fetches the full history (needed for nothing but audits).'),
    filter: z
      .enum(['blob:none', 'tree:0'])
      .optional()
      .describe('A partial-clone filter: fetch file contents only when checked out.'),
    sparse: z
      .array(relativePath)
      .optional()
      .describe('Only these paths of the data repo are checked out (cone mode).'),
    transform: z
      .array(dataTransform)
      .default([])
      .describe('Applied to each new version, in order.'),
    check: z
      .array(dataCheck)
      .default([])
      .describe('Each new version must pass all of these before it is served.'),
    schedule: z
      .string()
      .optional()
      .describe(
        'A cron expression (5 or 6 fields) for scheduled pulls; none means pulls only on webhook or by hand.',
      ),
    jitter: duration
      .default('0s')
      .describe('A random delay, up to this, added to each scheduled pull.'),
    keep: z
      .int()
      .min(1)
      .max(50)
      .default(3)
      .describe('Previous versions kept for instant rollback.'),
    retries: z
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe('Retries of a failed scheduled sync, with backoff.'),
    failure_budget: z
      .int()
      .min(1)
      .default(3)
      .describe('Consecutive failed syncs after which health reports unhealthy.'),
    verify: z
      .strictObject({
        allowed_signers: z
          .array(z.string().min(1))
          .min(1)
          .describe(
            'SSH public keys allowed to sign data commits, in git allowed_signers format ("email key-type key").',
          ),
      })
      .optional()
      .describe('Publish only commits signed by these keys.'),
    notify: notify.optional(),
    limits: dataLimits.optional(),
    webhook: z
      .strictObject({
        secret_file: instancePath.describe('File on the instance holding the webhook secret.'),
      })
      .optional()
      .describe('Enable the push webhook (GitHub-style X-Hub-Signature-256).'),
    auth: repoAuth.optional(),
    submodules,
    submodule_urls: submoduleUrls,
    lfs: z
      .boolean()
      .optional()
      .describe(
        'The data repo keeps files in Git LFS: fetch their objects for the commit being published and only inside data.sparse, from the LFS endpoint of data.repo (git-lfs; first boot installs it). They count against data.limits; a version whose objects cannot all be fetched is not published.',
      ),
  })
  .describe('The data repo: the content the service shows.');

/** The publisher's side of the data repo: what `bootstrap publish` pushes, and how much it keeps. */
export const publish = z
  .strictObject({
    repo: repoUrl
      .optional()
      .describe(
        "Where `bootstrap publish` pushes (default: data.repo), e.g. an ssh:// URL with write access while the instances read data.repo over https. Credentials are the publishing machine's own (ssh agent, git credential helper).",
      ),
    keep_history: z
      .int()
      .min(0)
      .max(10_000)
      .default(0)
      .describe(
        'The most commits `bootstrap publish` leaves on data.ref. A publish past it re-creates the newest ones (same trees, messages, authors and dates) on a new root and force-pushes them with a lease, so the repo stops growing; agents fetching the old tip then get the new one. 0 keeps every commit.',
      ),
    mirror: z
      .string()
      .refine((v) => v.startsWith('/') && !CONTROL.test(v) && !v.split('/').includes('..'), {
        error: 'expected an absolute path on the publishing machine, without ".." segments',
      })
      .optional()
      .describe(
        'A folder on the publishing machine that every publish also writes the static mirror into: a git bundle of the new commit (and one from the previous commit), then gitstrap-data.json naming them, by atomic rename. Upload it to S3 (aws s3 sync) or serve it over HTTP; agents read it with data.source.static.',
      ),
    schedule: z
      .string()
      .optional()
      .describe(
        'A cron expression for `bootstrap publish` without --once: publish now, then on this schedule in the foreground (a systemd service). From cron or a systemd timer, run it with --once instead.',
      ),
  })
  .optional()
  .describe(
    "The publisher's side: `bootstrap publish --from DIR` commits DIR to data.repo packed as data.transform expects it, and pushes it.",
  );
