// Where a launched service is reached: the instance's address, the URL people open, the health URL.
import type { Instance } from '@aws-sdk/client-ec2';
import { HEALTH_PATH } from './plan.js';

/** The address the service is reached on: public IPv4, else public DNS, else private IPv4. */
export function addressOf(instance: Instance): string | undefined {
  return (
    instance.PublicIpAddress ?? (instance.PublicDnsName || undefined) ?? instance.PrivateIpAddress
  );
}

/** The URL people open: http://ADDRESS/ (the port only when it is not 80). */
export function serviceUrl(address: string, port: number): string {
  return `http://${address}${port === 80 ? '' : `:${port}`}/`;
}

/** The agent's health URL on an instance. */
export function healthUrl(address: string, port: number): string {
  return `http://${address}:${port}${HEALTH_PATH}`;
}
