// Which image a launch boots: an explicit AMI, or the current image of an OS family, read from the
// public SSM parameters its publisher keeps up to date (no AMI ids baked into gitstrap).

/** The OS families `--os` accepts. */
export const OS_FAMILIES = ['debian-12', 'ubuntu-24.04', 'al2023'] as const;
export type OsFamily = (typeof OS_FAMILIES)[number];

/** The public SSM parameter holding each family's current amd64 AMI id. */
export const IMAGE_PARAMETERS: Record<OsFamily, string> = {
  'debian-12': '/aws/service/debian/release/12/latest/amd64',
  'ubuntu-24.04':
    '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
  al2023: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
};

/** Where the image comes from: an AMI given by the user, or an OS family to resolve. */
export type ImageSource = { ami: string } | { os: OsFamily };

/** Whether a string is one of the OS families. */
export function isOsFamily(text: string): text is OsFamily {
  return (OS_FAMILIES as readonly string[]).includes(text);
}

/** Whether a string looks like an AMI id. */
export function isAmiId(text: string): boolean {
  return /^ami-[0-9a-f]{8,17}$/.test(text);
}

/** Whether a string looks like an image id of AWS or an EC2-compatible cloud (Eucalyptus: emi-). */
export function isImageId(text: string): boolean {
  return /^[ae]mi-[0-9a-fA-F]{8,17}$/.test(text);
}

/** The SSM GetParameter request that resolves an OS family to its current AMI. */
export function buildGetImageParameterRequest(os: OsFamily): { Name: string } {
  return { Name: IMAGE_PARAMETERS[os] };
}
