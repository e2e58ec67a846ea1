// Sections serve, agent, launch and installer: how the agent serves, how the instance gets the
// agent, how `bootstrap launch` starts the machine, and installer mode.
import * as z from 'zod';
import { isListenAddress, NPM_SOURCE, NPM_SOURCE_ERROR } from '../address.js';

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
