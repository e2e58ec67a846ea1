// Shared pieces of the installer tests: Eucalyptus instance folders, user-data in every shape the
// hook must read, a structural digest of a libvirt domain, and virt-xml-validate.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DOMParser, type Element, type Node as XmlNode } from '@xmldom/xmldom';
import { loadRecipeFile } from '../../src/recipe/load.js';
import { renderUserData } from '../../src/userdata/index.js';
import { projectRoot, requireTool } from '../helpers/tools.js';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A Eucalyptus 3 instance.xml (as gen_instance_xml writes it) carrying this user-data. */
export function instanceXml(userData: Buffer | undefined, id = 'i-447E3E89'): string {
  const encoded = userData ? userData.toString('base64') : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<instance>
  <hypervisor type="kvm" capability="hw" bitness="64"/>
  <backing><root type="blockmap"/></backing>
  <name>${id}</name>
  <uuid>3f0b7b0e-5d0a-4b8f-a6f3-8d7e2b9a1c44</uuid>
  <reservation>r-8D6B41F0</reservation>
  <user>AIDAEXAMPLE</user>
  <owner>AIDAEXAMPLE</owner>
  <cores>2</cores>
  <memoryKB>2097152</memoryKB>
  <key isKeyInjected="false" sshKey=""/>
  <os platform="linux" virtioRoot="true" virtioDisk="true" virtioNetwork="true"/>
  <userData>${encoded}</userData>
  <launchIndex>0</launchIndex>
  <kernel>eki-EA183EA8</kernel>
  <ramdisk>eri-6ED23EF2</ramdisk>
</instance>
`;
}

/** An instance folder with instance.xml and a copy of a libvirt.xml fixture (or given text). */
export function makeInstance(
  dir: string,
  userData: Buffer | undefined,
  libvirt: { fixture: string } | { text: string },
): { dir: string; libvirtFile: string; original: Buffer } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'instance.xml'), instanceXml(userData));
  const libvirtFile = path.join(dir, 'libvirt.xml');
  if ('fixture' in libvirt) copyFileSync(path.join(FIXTURES, libvirt.fixture), libvirtFile);
  else writeFileSync(libvirtFile, libvirt.text);
  return { dir, libvirtFile, original: readFileSync(libvirtFile) };
}

/** The files an instance folder holds, sorted (to prove nothing else was written). */
export function listFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}

const CLOUD_CONFIG_BODY = `runcmd:
  - [sh, -c, "echo installer instance"]
`;

/**
 * User-data in every shape the hook must read, carrying `bootparams=LINE`: what renderUserData
 * emits for a real recipe (cloud-config, MIME, gzip of each); a hand-made MIME whose cloud-config
 * part is base64-encoded; and the seed's plain `bootparams=` text.
 */
export function userDataShapes(line: string): Record<string, Buffer> {
  const recipe = loadRecipeFile(path.join(projectRoot, 'recipes/open-qa.yaml'));
  const render = (format: 'cloud-config' | 'mime', gzip: boolean) =>
    renderUserData(recipe, { version: '0.1.0', format, gzip, bootparams: line }).body;
  return {
    'cloud-config': render('cloud-config', false),
    mime: render('mime', false),
    'gzip cloud-config': render('cloud-config', true),
    'gzip mime': render('mime', true),
    ...handMadeShapes(line),
  };
}

/** User-data as anyone could hand-craft it, with no renderer checks in the way. */
export function handMadeShapes(line: string): Record<string, Buffer> {
  const cloudConfig = `#cloud-config\n# bootparams=${line}\n${CLOUD_CONFIG_BODY}`;
  const boundary = '==GITSTRAP-BOUNDARY-7f3a==';
  const mime = [
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    'MIME-Version: 1.0',
    '',
    `--${boundary}`,
    'Content-Type: text/x-shellscript; charset="utf-8"',
    'MIME-Version: 1.0',
    'Content-Transfer-Encoding: 7bit',
    'Content-Disposition: attachment; filename="first-boot.sh"',
    '',
    '#!/bin/sh',
    '# bootparams=this-is-a-comment-in-a-script-and-must-be-ignored',
    'echo first boot',
    `--${boundary}`,
    'Content-Type: text/cloud-config; charset="utf-8"',
    'MIME-Version: 1.0',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="cloud-config.yaml"',
    '',
    ...(Buffer.from(cloudConfig)
      .toString('base64')
      .match(/.{1,76}/g) ?? []),
    `--${boundary}--`,
    '',
  ].join('\n');
  return {
    'hand-made cloud-config': Buffer.from(cloudConfig),
    'base64 mime part': Buffer.from(mime),
    'gzip base64 mime part': gzipSync(mime),
    'seed plain text': Buffer.from(`bootparams=${line}\n`),
  };
}

/**
 * A structural dump of an XML document: every node with its path, attributes and text, except
 * <domain><os><cmdline> and the whitespace between <os>'s children. Equal digests mean nothing but
 * the cmdline changed (or was added).
 */
export function domDigest(xml: string): string[] {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const out: string[] = [];
  const walk = (node: XmlNode, at: string, inOs: boolean) => {
    let i = 0;
    for (let n = node.firstChild; n; n = n.nextSibling, i++) {
      const here = inOs ? at : `${at}/${i}`;
      if (n.nodeType === n.ELEMENT_NODE) {
        const el = n as Element;
        const name = el.nodeName;
        if (inOs && name === 'cmdline') continue;
        const attrs = Array.from({ length: el.attributes.length }, (_, k) => el.attributes.item(k)!)
          .map((a) => `${a.name}=${JSON.stringify(a.value)}`)
          .sort()
          .join(' ');
        out.push(`${here} <${name} ${attrs}>`);
        const isOs = name === 'os' && node.nodeName === 'domain';
        walk(n, isOs ? `${here}/os` : `${here}/${name}`, isOs);
      } else if (n.nodeType === n.TEXT_NODE) {
        if (inOs && /^\s*$/.test(n.nodeValue ?? '')) continue;
        out.push(`${here} text ${JSON.stringify(n.nodeValue)}`);
      } else {
        out.push(`${here} type${n.nodeType} ${n.nodeName} ${JSON.stringify(n.nodeValue)}`);
      }
    }
  };
  walk(doc, '', false);
  return out;
}

/** Runs `virt-xml-validate FILE domain` (libvirt's RELAX NG schema) and returns its output. */
export function validateDomain(file: string): { ok: boolean; output: string } {
  requireTool('virt-xml-validate', 'libvirt-clients');
  requireTool('xmllint', 'libxml2-utils');
  const result = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}
