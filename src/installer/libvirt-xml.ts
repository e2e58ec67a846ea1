// Reading a Eucalyptus instance.xml and rewriting a libvirt domain's <os><cmdline>. A real XML
// parser (@xmldom/xmldom) reads the files and locates the element; the rewrite is a splice of the
// file's text that replaces the text of <cmdline> (or adds the element) and leaves every other byte
// as it was. The new text is XML-escaped, so no character of it can end the element or add markup.
// Pure: strings in, strings out.
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { GitstrapError } from '../lib/errors.js';
import { KERNEL_CMDLINE_MAX } from './bootparams.js';
import { elementSpan, escapeXmlText, lineStarts } from './xml-span.js';

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
      // XML 1.0 line-end handling only (lines and columns stay those of the raw text).
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

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/** The child elements of `parent` named `name`, in no namespace (as libvirt and Eucalyptus read them). */
function childElements(parent: Element, name: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== n.ELEMENT_NODE) continue;
    const el = n as Element;
    if (el.localName === name && !el.namespaceURI) out.push(el);
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
  /** The new libvirt.xml text: the old one with only the text of <cmdline> changed (or added). */
  xml: string;
  before: string | undefined;
  after: string;
  /** True when the cmdline already ends with the parameters (nothing to change). */
  unchanged: boolean;
}

/** The parts of a libvirt domain the hook reads and writes. */
interface DomainBoot {
  kernel: Element;
  initrd: Element | undefined;
  cmdline: Element | undefined;
}

/** Finds <domain><os> with its <kernel>, <initrd> and <cmdline>; refuses anything else. */
function domainBoot(doc: Document, file: string): DomainBoot {
  const domain = doc.documentElement!;
  if (domain.localName !== 'domain' || domain.namespaceURI) {
    throw new GitstrapError(`${file}: expected a libvirt <domain>, got <${domain.tagName}>`);
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
  const cmdline = cmdlines[0];
  if (cmdline && countElements(cmdline) > 0) {
    throw new GitstrapError(`${file}: <cmdline> holds elements; libvirt expects text`);
  }
  return { kernel: kernels[0]!, initrd: childElements(os, 'initrd')[0], cmdline };
}

function countElements(parent: Element): number {
  let count = 0;
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === n.ELEMENT_NODE) count++;
  return count;
}

/**
 * Appends `params` to the domain's <os><cmdline> (creating it after <initrd> or <kernel> when
 * missing). Refuses a domain that does not boot a kernel directly, and a result longer than the
 * kernel accepts. Only the text of <cmdline> changes: every other byte of `text` is kept.
 */
export function rewriteCmdline(text: string, params: string, file = 'libvirt.xml'): CmdlineRewrite {
  const doc = parseXml(text, file);
  const boot = domainBoot(doc, file);
  const before = boot.cmdline ? textOf(boot.cmdline) : undefined;
  const base = (before ?? '').trim();
  if (params === '' || base === params || base.endsWith(` ${params}`)) {
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
  const xml = spliceCmdline(text, boot, after);
  // The splice is checked by the parser: the new file must read back with exactly this cmdline.
  if (readCmdline(xml, file) !== after) {
    throw new GitstrapError(`${file}: the rewritten <cmdline> does not read back as written`, {
      hint: 'this is a bug in gitstrap: please report it with the file',
    });
  }
  return { xml, before, after, unchanged: false };
}

/** `text` with the text of <cmdline> replaced by `cmdline` (the element added when missing). */
function spliceCmdline(text: string, boot: DomainBoot, cmdline: string): string {
  const starts = lineStarts(text);
  const escaped = escapeXmlText(cmdline);
  if (boot.cmdline) {
    const span = elementSpan(text, boot.cmdline, starts);
    if (span.empty) {
      const close = `>${escaped}</${boot.cmdline.tagName}>`;
      return text.slice(0, span.end - 2) + close + text.slice(span.end);
    }
    return text.slice(0, span.openEnd) + escaped + text.slice(span.closeStart);
  }
  const anchor = elementSpan(text, boot.initrd ?? boot.kernel, starts);
  const indent = leadingSpace(text, anchor.start);
  const element = `${indent}<cmdline>${escaped}</cmdline>`;
  return text.slice(0, anchor.end) + element + text.slice(anchor.end);
}

/** The white space (space, tab, line ends) just before offset `at`. */
function leadingSpace(text: string, at: number): string {
  let i = at;
  while (i > 0 && ' \t\r\n'.includes(text.charAt(i - 1))) i--;
  return text.slice(i, at);
}

/**
 * `text` without <os><cmdline> and the white space before it: what must stay the same, to the
 * byte, between an original libvirt.xml and the file the hook wrote from it.
 */
export function textOutsideCmdline(text: string, file = 'libvirt.xml'): string {
  const boot = domainBoot(parseXml(text, file), file);
  if (!boot.cmdline) return text;
  const span = elementSpan(text, boot.cmdline, lineStarts(text));
  const start = span.start - leadingSpace(text, span.start).length;
  return text.slice(0, start) + text.slice(span.end);
}

/** The text of <os><cmdline> in a libvirt domain, or undefined when there is none. */
export function readCmdline(text: string, file = 'libvirt.xml'): string | undefined {
  const domain = parseXml(text, file).documentElement!;
  const os = childElements(domain, 'os')[0];
  const cmdline = os ? childElements(os, 'cmdline')[0] : undefined;
  return cmdline ? textOf(cmdline) : undefined;
}
