// Small answers written straight to node:http (error pages, redirects), each with the security
// headers, so refusals look the same whichever layer refuses.
import type { ServerResponse } from 'node:http';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  416: 'Range Not Satisfiable',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** "404 Not Found". */
export function statusLine(status: number): string {
  return `${status} ${REASONS[status] ?? 'Error'}`;
}

/** Answers with a short plain-text body (or none for HEAD); extra headers as [name, value] pairs. */
export function sendText(
  res: ServerResponse,
  securityHeaders: readonly string[],
  status: number,
  text: string = statusLine(status),
  extra: readonly string[] = [],
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(body.length),
    'Cache-Control',
    'no-store',
    ...securityHeaders,
    ...extra,
  ]);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Answers with a small HTML page (used for 502/503/504 in front of the service). */
export function sendHtml(
  res: ServerResponse,
  securityHeaders: readonly string[],
  status: number,
  title: string,
  message: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(statusLine(status))}</title>` +
      `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#1f2328}h1{font-size:1.4em}p{color:#57606a}</style>` +
      `</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p>${escapeHtml(statusLine(status))}</p></body></html>\n`,
  );
  res.writeHead(status, [
    'Content-Type',
    'text/html; charset=utf-8',
    'Content-Length',
    String(body.length),
    'Cache-Control',
    'no-store',
    ...securityHeaders,
  ]);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** A permanent redirect to a decoded path on this server (encoded here; never another host). */
export function sendRedirect(
  res: ServerResponse,
  securityHeaders: readonly string[],
  decodedPath: string,
): void {
  const parts = decodedPath.split('/').filter((s, i, all) => s !== '' || i === all.length - 1);
  const location = `/${parts.map(encodeURIComponent).join('/')}`;
  sendText(res, securityHeaders, 301, `Moved to ${location}`, ['Location', location]);
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
