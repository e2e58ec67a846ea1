// The recipe schema: the single source of truth for recipe types, validation, recipes/schema.json
// and docs/recipes.md. Cross-field checks live in rules.ts; this file says what each key is.
import * as z from 'zod';
import { DURATION_PATTERN } from '../lib/duration.js';
import { isListenAddress, NPM_SOURCE, NPM_SOURCE_ERROR } from './address.js';

// ---------------------------------------------------------------------------------------------
// Building blocks

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A recipe name: lower-case letters, digits and dashes; used in paths, unit names and tags. */
export const recipeName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/, {
    error: 'expected 2-40 lower-case letters, digits or dashes, starting with a letter',
  })
  .describe('Lower-case letters, digits and dashes (2-40), starting with a letter.');

/** A duration such as 90s, 10m, 1h30m, 30d, 2w. */
export const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'expected a duration such as 90s, 10m, 1h30m, 30d' })
  .describe('A duration: digits and a unit (ms, s, m, h, d, w), e.g. 90s, 10m, 1h30m, 30d.');

/** Where a repository lives: https://, http://, git://, ssh://, scp-like git@host:path, file:// or a local path. */
export const repoUrl = z
  .string()
  .min(1)
  .refine((v) => !CONTROL.test(v) && !/\s/.test(v), {
    error: 'must not contain spaces or control characters',
  })
  .refine((v) => !v.startsWith('-'), { error: 'must not start with "-"' })
  .refine(
    (v) =>
      /^(https?|git|ssh|file):\/\//.test(v) || /^[\w.-]+@[\w.-]+:/.test(v) || v.startsWith('/'),
    {
      error:
        'expected a git URL (https://, git://, ssh://, git@host:path, file://) or an absolute path',
    },
  )
  .describe('A git URL (https://, git://, ssh://, git@host:path, file://) or an absolute path.');

/** A branch, tag or full commit SHA. */
export const gitRef = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (v) =>
      !CONTROL.test(v) &&
      !/[\s~^:?*[\\]/.test(v) &&
      !v.startsWith('-') &&
      !v.includes('..') &&
      !v.includes('@{') &&
      !v.endsWith('.lock') &&
      !v.endsWith('/') &&
      !v.startsWith('/'),
    { error: 'expected a branch, tag or commit SHA (no spaces, "..", "~^:?*[\\" or leading "-")' },
  )
  .describe('A branch, a tag, or a full 40-hex commit SHA (a SHA pins it).');

/** A path inside a checkout: relative, no "..", no control characters. */
export const relativePath = z
  .string()
  .min(1)
  .refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' })
  .refine((v) => !v.startsWith('/'), { error: 'expected a relative path (no leading "/")' })
  .refine((v) => !v.split('/').includes('..'), { error: 'must not contain ".." segments' })
  .describe('A path relative to the checkout; no ".." segments.');

/** An absolute path on the instance (where a credential or secret file lives). */
export const instancePath = z
  .string()
  .refine((v) => v.startsWith('/') && !CONTROL.test(v) && !v.split('/').includes('..'), {
    error: 'expected an absolute path on the instance, without ".." segments',
  })
  .describe('An absolute path on the instance.');

/** A command as an argument vector; no shell. Placeholders: {port}, {service}, {data}, {state}. */
export const argv = z
  .array(
    z.string().refine((v) => !v.includes('\u0000'), { error: 'must not contain NUL characters' }),
  )
  .min(1, { error: 'expected at least the program name' })
  .describe(
    'A command as an argument vector, run without a shell. Placeholders {port}, {service}, {data} and {state} are replaced.',
  );

/** Environment variables for a command. */
export const envMap = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }),
    z.string().refine((v) => !v.includes('\u0000'), { error: 'must not contain NUL characters' }),
  )
  .describe('Environment variables: NAME: value.');

// ---------------------------------------------------------------------------------------------
// Credentials for private repositories: where they live on the instance, never the value.

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

// ---------------------------------------------------------------------------------------------
// Submodules and Git LFS, for the service and the data repo alike.

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

// ---------------------------------------------------------------------------------------------
// Service

export const osPackages = z.union([
  z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/, { error: 'expected a package name' })),
  z.strictObject({
    apt: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/)).optional(),
    dnf: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/)).optional(),
  }),
]);

export const installStep = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
        error: 'expected a step name: letters, digits, ".", "_", "-"',
      })
      .describe('The step name, used in logs, markers and error messages.'),
    packages: osPackages
      .optional()
      .describe(
        'OS packages to install with the distro package manager (as root), or {apt: [...], dnf: [...]}.',
      ),
    run: argv.optional().describe('A command as an argument vector (no shell).'),
    shell: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A shell script, for the steps that really need a shell. Recipe values are never spliced in.',
      ),
    patch: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A unified diff (as git diff writes it, paths a/... b/... from the checkout root) applied to the service checkout with git apply: a fix the recipe carries for an upstream it does not control. Already applied: skipped. No longer applies: the step fails naming the file and hunk.',
      ),
    env: envMap.optional(),
    cwd: relativePath.optional().describe('Working directory, relative to the service checkout.'),
    timeout: duration.default('10m').describe('How long the step may run before it is killed.'),
  })
  .describe('One install step: exactly one of packages, run, shell or patch.');

export const service = z
  .strictObject({
    repo: repoUrl.describe('Where the service code lives.'),
    ref: gitRef.default('main'),
    runtime: z
      .enum(['static', 'site', 'node', 'process'])
      .describe(
        'How the agent serves it: static (files), site (handlebars templates + data), node (an Express app or a start command), process (any command, proxied).',
      ),
    root: relativePath
      .default('.')
      .describe(
        'For static and site: the folder of the checkout that is served (templates and assets for site).',
      ),
    install: z.array(installStep).default([]).describe('Ordered install steps.'),
    start: argv
      .optional()
      .describe(
        'For node and process: the command that starts the service. It must listen on 127.0.0.1:{port}.',
      ),
    module: relativePath
      .optional()
      .describe(
        'For node: a module in the checkout whose default export is an Express app or router, mounted in the agent.',
      ),
    env: envMap.optional().describe('Environment for install steps and the start command.'),
    auth: repoAuth.optional(),
    submodules,
    submodule_urls: submoduleUrls,
    lfs: z
      .boolean()
      .optional()
      .describe(
        'The service repo keeps files in Git LFS: fetch them for the checked-out commit (git-lfs; first boot installs it).',
      ),
  })
  .describe('The service repo: the code.');

// ---------------------------------------------------------------------------------------------
// Data

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

// ---------------------------------------------------------------------------------------------
// Serving, the agent on the instance, launching, installer mode

export const serve = z
  .strictObject({
    port: z.int().min(1).max(65535).default(80),
    host: z
      .string()
      .refine(isListenAddress, {
        error:
          'expected an IP address (v4 or v6) or a host name, e.g. 0.0.0.0, ::, 127.0.0.1 or localhost',
      })
      .default('0.0.0.0')
      .describe('Address the agent listens on: an IP address (v4 or v6) or a host name.'),
    health: z
      .string()
      .regex(/^\/[^\s]*$/, { error: 'expected a path starting with "/"' })
      .default('/')
      .describe('A path of the service that answers 2xx when it is up.'),
    listing: z.boolean().default(false).describe('Show directory listings (static runtime).'),
    max_body: z
      .string()
      .regex(/^\d+(b|kb|mb)$/, { error: 'expected a size such as 100kb or 1mb' })
      .default('1mb')
      .describe('Largest request body the agent accepts.'),
  })
  .prefault({})
  .describe('How the agent serves the service.');

export const agent = z
  .strictObject({
    source: z
      .union([
        z
          .string()
          .regex(/^(image|npm:[^\s-]\S*)$/, { error: NPM_SOURCE_ERROR, abort: true })
          .refine((v) => v === 'image' || NPM_SOURCE.test(v), { error: NPM_SOURCE_ERROR }),
        z.strictObject({
          url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
          sha256: z
            .string()
            .regex(/^[a-f0-9]{64}$/, { error: 'expected 64 lower-case hex digits' }),
        }),
      ])
      .optional()
      .describe(
        'Where the instance gets the agent: "npm:<spec>" (default: this gitstrap version), {url, sha256} of the self-contained bundle, or "image" when it is already installed.',
      ),
    registry: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .refine((v) => !/[\s'"\\]/.test(v), {
        error: 'must not contain spaces, quotes or backslashes',
      })
      .optional()
      .describe(
        "With an npm agent source: the npm registry to install it from (default: the instance's npm configuration, normally registry.npmjs.org), e.g. a private registry or a mirror.",
      ),
    node: z
      .enum(['distro', 'official'])
      .default('distro')
      .describe('Node.js from the distro (>= 18 required), or an official build from nodejs.org.'),
    node_version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/)
      .default('20.18.1')
      .describe('With node: official, the version to install.'),
  })
  .prefault({})
  .describe('How the instance installs and runs the gitstrap agent.');

export const launch = z
  .strictObject({
    region: z.string().optional(),
    instance_type: z.string().default('t3.micro'),
    os: z.enum(['debian-12', 'ubuntu-24.04', 'al2023']).default('debian-12'),
    image: z
      .string()
      .regex(/^[ae]mi-[0-9a-fA-F]{8,17}$/, {
        error: 'expected an image id such as ami-0123456789abcdef0 (or emi-… on Eucalyptus)',
      })
      .optional()
      .describe(
        'An explicit image: an AMI (ami-…), or an EMI (emi-…) on Eucalyptus; overrides os.',
      ),
    key_name: z.string().optional(),
    subnet: z.string().optional(),
    instance_profile: z
      .string()
      .optional()
      .describe('IAM instance profile (needed for SSM credentials).'),
    open_port: z
      .boolean()
      .default(false)
      .describe('Create a security group that opens serve.port.'),
    volume_size: z.int().min(1).optional().describe('Root volume size in GiB.'),
  })
  .prefault({})
  .describe('Defaults for `bootstrap launch`.');

export const installer = z
  .strictObject({
    ks: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('The kickstart URL (inst.ks=).'),
    bootparams: z.string().optional().describe('Extra kernel boot parameters.'),
    allow: z
      .array(z.string())
      .optional()
      .describe('If set, only these kernel parameter names are accepted.'),
  })
  .optional()
  .describe('Installer mode: boot an installer with these kernel parameters.');

// ---------------------------------------------------------------------------------------------
// The recipe

export const recipeSchema = z
  .strictObject({
    name: recipeName,
    description: z
      .string()
      .optional()
      .describe('One line on what the service is, shown on the status page.'),
    service,
    data: data.optional(),
    publish,
    serve,
    ttl: duration
      .optional()
      .describe('Lifetime of an ephemeral deployment; it ends itself when this runs out.'),
    agent,
    launch,
    installer,
  })
  .describe(
    'A gitstrap recipe: where a service and its data live and how to install, serve and sync them.',
  );

/** A recipe after validation, with defaults filled in. */
export type Recipe = z.output<typeof recipeSchema>;
/** A recipe as written. */
export type RecipeInput = z.input<typeof recipeSchema>;
export type InstallStep = Recipe['service']['install'][number];
export type DataConfig = NonNullable<Recipe['data']>;
export type DataTransform = DataConfig['transform'][number];
export type DataCheck = DataConfig['check'][number];
export type RepoAuth = z.output<typeof repoAuth>;
