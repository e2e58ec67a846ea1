// Reading a Eucalyptus instance.xml and rewriting a libvirt domain's <os><cmdline> with a real XML
// parser and serializer (@xmldom/xmldom): values become text nodes, so no character of them can
// end the element or add markup. Pure: strings in, strings out.
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { GitstrapError } from '../lib/errors.js';
import { KERNEL_CMDLINE_MAX } from './bootparams.js';

/** Parses an XML file's text; throws naming the file on anything malformed or with a DOCTYPE. */
export function parseXml(text: string, file: string): Document {
  if (/<!DOCTYPE/i.test(text)) {
    throw new GitstrapError(`${file}: has a DOCTYPE; libvirt and Eucalyptus files never do`, {
      hint: 'refusing it rather than expanding its entities',
    });
  }
  const problems: string[] = [];
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: true,
      // XML 1.0 line-end handling only, so no other character of the file changes.
      normalizeLineEndings: (s) => s.replace(/\r\n?/g, '\n'),
      onError: (level, message) => {
        problems.push(message.split('\n')[0]!.replace(/^\[xmldom \w+\]\s*/, ''));
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(text, 'text/xml');
  } catch (error) {
    throw new GitstrapError(`${file}: not well-formed XML: ${problems[0] ?? firstLine(error)}`, {
      hint: 'the file was left as it is',
    });
  }
  if (problems.length || !doc.documentElement) {
    throw new GitstrapError(`${file}: not well-formed XML: ${problems[0] ?? 'no root element'}`, {
      hint: 'the file was left as it is',
    });
  }
  return doc;
}

/** Serializes a document back to text, keeping the XML declaration when there was one. */
export function serializeXml(doc: Document): string {
  return new XMLSerializer().serializeToString(doc);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

function childElements(parent: Element, name: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === n.ELEMENT_NODE && (n as Element).localName === name) out.push(n as Element);
  }
  return out;
}

function textOf(el: Element): string {
  return el.textContent ?? '';
}

/** The decoded user-data of a Eucalyptus instance.xml (/instance/userData, base64), if any. */
export function readInstanceUserData(text: string, file = 'instance.xml'): Buffer | undefined {
  const doc = parseXml(text, file);
  const root = doc.documentElement!;
  if (root.localName !== 'instance') {
    throw new GitstrapError(`${file}: expected an <instance> document, got <${root.localName}>`);
  }
  const nodes = childElements(root, 'userData');
  if (nodes.length > 1) throw new GitstrapError(`${file}: more than one <userData>`);
  const encoded = nodes[0] ? textOf(nodes[0]).replace(/\s+/g, '') : '';
  if (encoded === '') return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 === 1) {
    throw new GitstrapError(`${file}: <userData> is not base64`, {
      hint: 'Eucalyptus stores user-data base64-encoded; the file may be damaged',
    });
  }
  return Buffer.from(encoded, 'base64');
}

/** The result of planning a cmdline rewrite. */
export interface CmdlineRewrite {
  /** The new libvirt.xml text. */
  xml: string;
  before: string | undefined;
  after: string;
  /** True when the parameters are already at the end of the cmdline (the hook ran before). */
  unchanged: boolean;
}

/**
 * Appends `params` to the domain's <os><cmdline> (creating it after <initrd> or <kernel> when
 * missing). Refuses a domain that does not boot a kernel directly, and a result longer than the
 * kernel accepts. Every other node is left exactly as parsed.
 */
export function rewriteCmdline(text: string, params: string, file = 'libvirt.xml'): CmdlineRewrite {
  const doc = parseXml(text, file);
  const domain = doc.documentElement!;
  if (domain.localName !== 'domain') {
    throw new GitstrapError(`${file}: expected a libvirt <domain>, got <${domain.localName}>`);
  }
  const oses = childElements(domain, 'os');
  if (oses.length !== 1) {
    throw new GitstrapError(`${file}: expected one <os> in <domain>, found ${oses.length}`);
  }
  const os = oses[0]!;
  const kernels = childElements(os, 'kernel');
  if (kernels.length !== 1 || textOf(kernels[0]!).trim() === '') {
    throw new GitstrapError(`${file}: <os> has no <kernel>: the domain boots from its disk`, {
      hint: 'kernel parameters need direct kernel boot: register the installer kernel and ramdisk (EKI, ERI) and launch with them',
    });
  }
  const cmdlines = childElements(os, 'cmdline');
  if (cmdlines.length > 1) {
    throw new GitstrapError(
      `${file}: <os> has ${cmdlines.length} <cmdline> elements; libvirt allows one`,
    );
  }
  const existing = cmdlines[0];
  const before = existing ? textOf(existing) : undefined;
  const base = (before ?? '').trim();
  if (params === '') return { xml: text, before, after: before ?? '', unchanged: true };
  if (base === params || base.endsWith(` ${params}`)) {
    return { xml: text, before, after: before ?? '', unchanged: true };
  }
  const after = base === '' ? params : `${base} ${params}`;
  const bytes = Buffer.byteLength(after);
  if (bytes > KERNEL_CMDLINE_MAX) {
    throw new GitstrapError(
      `${file}: the kernel command line would be ${bytes} bytes; the kernel takes at most ${KERNEL_CMDLINE_MAX}`,
      { hint: 'shorten the boot parameters (move settings into the kickstart)' },
    );
  }
  if (existing) {
    while (existing.firstChild) existing.removeChild(existing.firstChild);
    existing.appendChild(doc.createTextNode(after));
  } else {
    const cmdline = doc.createElement('cmdline');
    cmdline.appendChild(doc.createTextNode(after));
    const anchor = childElements(os, 'initrd')[0] ?? kernels[0]!;
    const indent = anchor.previousSibling;
    const ws =
      indent && indent.nodeType === indent.TEXT_NODE && /^\s+$/.test(indent.nodeValue ?? '')
        ? (indent.nodeValue ?? '')
        : undefined;
    const next = anchor.nextSibling;
    if (ws !== undefined) os.insertBefore(doc.createTextNode(ws), next);
    os.insertBefore(cmdline, next);
  }
  return { xml: serializeXml(doc), before, after, unchanged: false };
}

/** The text of <os><cmdline> in a libvirt domain, or undefined when there is none. */
export function readCmdline(text: string, file = 'libvirt.xml'): string | undefined {
  const domain = parseXml(text, file).documentElement!;
  const os = childElements(domain, 'os')[0];
  const cmdline = os ? childElements(os, 'cmdline')[0] : undefined;
  return cmdline ? textOf(cmdline) : undefined;
}
