// Types for the small libraries Express 5 ships and the serve layer uses directly (they come with
// no types of their own): only what src/serve and src/lib call.

declare module 'mime-types' {
  /** The full Content-Type (with a charset for text) for a file name or extension, or false. */
  export function contentType(nameOrExtension: string): string | false;
}

declare module 'negotiator' {
  import type { IncomingHttpHeaders } from 'node:http';
  export default class Negotiator {
    constructor(request: { headers: IncomingHttpHeaders });
    /** The encodings of `available` the request accepts, best first. */
    encodings(available?: readonly string[], options?: { preferred?: readonly string[] }): string[];
  }
}

declare module 'fresh' {
  /** True when a conditional request can be answered 304 for a response with these headers. */
  export default function fresh(
    requestHeaders: {
      'if-none-match'?: string;
      'if-modified-since'?: string;
      'cache-control'?: string;
    },
    responseHeaders: { etag?: string; 'last-modified'?: string },
  ): boolean;
}

declare module 'etag' {
  import type { Stats } from 'node:fs';
  /** An ETag for a body (strong) or for file stats (weak: size and mtime, in hex). */
  export default function etag(
    entity: string | Buffer | Stats,
    options?: { weak?: boolean },
  ): string;
}

declare module 'bytes' {
  const bytes: {
    /** Bytes of "1mb", "100kb", "512"... (1 kb = 1024 b), or null. */
    parse(value: string | number): number | null;
  };
  export default bytes;
}
