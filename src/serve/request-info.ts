// What the node:http layer learnt about a request (its checked path, generation and file kind),
// handed to the Express layer on the request object.
import type { IncomingMessage } from 'node:http';
import type { FileKind } from './fast-path.js';
import type { Generation } from './generation.js';

const INFO = Symbol('gitstrap.serve.request');

/** The request's checked path, the generation it is answered from and its file kind. */
export interface RequestInfo {
  path: string;
  gen: Generation;
  kind: FileKind | undefined;
}

/** Attaches `info` to `req`. */
export function setRequestInfo(req: IncomingMessage, info: RequestInfo): void {
  (req as IncomingMessage & { [INFO]?: RequestInfo })[INFO] = info;
}

/** The info attached to `req`, if any. */
export function requestInfoOf(req: IncomingMessage): RequestInfo | undefined {
  return (req as IncomingMessage & { [INFO]?: RequestInfo })[INFO];
}
