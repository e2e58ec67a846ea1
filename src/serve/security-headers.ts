// The security headers every response carries (fast path, Express, proxy, error pages): helmet's,
// computed once by running helmet against a recording response, so all paths send the same set.
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/** Helmet's defaults, minus what breaks a site served over plain HTTP (it may have no TLS). */
export const DEFAULT_HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } },
  strictTransportSecurity: false,
};

/** The headers helmet sets with these options, as [name, value] pairs. */
export function computeSecurityHeaders(
  options: HelmetOptions = DEFAULT_HELMET_OPTIONS,
): Array<[string, string]> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
    getHeader(name: string) {
      return headers.get(name);
    },
  };
  let failure: unknown;
  helmet(options)(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    (error?: unknown) => (failure = error),
  );
  if (failure) throw failure;
  return [...headers];
}

/** The same headers flattened for `res.writeHead(status, [name, value, ...])`. */
export function flattenHeaders(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  return pairs.flatMap(([name, value]) => [name, value]);
}
