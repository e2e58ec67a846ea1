// The site runtime: handlebars pages from the service checkout rendered with the data version as
// context (docs/serving.md states the convention). Templates are compiled once per service
// checkout; the data context once per data version; rendered pages are cached by the caller.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { resolveInside } from '../lib/resolve-inside.js';
import { dataDescriptors, makeContext, SiteDataError } from './site-data.js';

/** A template that does not parse or render; the message names the file. */
export class SiteTemplateError extends Error {
  override name = 'SiteTemplateError';
}

type Template = Handlebars.TemplateDelegate;

interface Templates {
  root: string;
  hb: typeof Handlebars;
  layout: Template | undefined;
  pages: Map<string, Template>;
}

/** The page template file for a URL path ("/" → pages/index.hbs, "/a/" → pages/a/index.hbs). */
export function pageFileFor(urlPath: string): string[] {
  const segments = urlPath.split('/').filter((s) => s !== '');
  if (urlPath.endsWith('/')) segments.push('index');
  const last = segments.pop();
  return [...segments, `${last ?? 'index'}.hbs`];
}

/** True for files the site runtime never serves as assets (templates). */
export function isTemplateFile(urlPath: string): boolean {
  return urlPath.toLowerCase().endsWith('.hbs');
}

/** Renders site pages; holds the compiled templates of one checkout and the context of one version. */
export class SiteRenderer {
  private templates: Promise<Templates> | undefined;
  private templatesRoot = '';
  private data: { root: string; descriptors: PropertyDescriptorMap } | undefined;

  /** The rendered page for `urlPath`, or undefined when no page template matches it. */
  async render(
    serviceRoot: string,
    dataRoot: string,
    urlPath: string,
  ): Promise<string | undefined> {
    const file = pageFileFor(urlPath);
    const resolved = await resolveInside(path.join(serviceRoot, 'pages'), file, [serviceRoot]);
    if (resolved.kind !== 'file') return undefined;
    const templates = await this.templatesFor(serviceRoot);
    const name = path.relative(serviceRoot, resolved.path);
    let page = templates.pages.get(name);
    if (page === undefined) {
      page = compile(templates.hb, name, await readFile(resolved.path, 'utf8'));
      templates.pages.set(name, page);
    }
    const descriptors = this.descriptorsFor(dataRoot);
    const gitstrap = { path: urlPath, version: path.basename(dataRoot) };
    try {
      const body = page(makeContext(descriptors, { gitstrap }));
      if (templates.layout === undefined) return body;
      return templates.layout(
        makeContext(descriptors, { gitstrap, body: new templates.hb.SafeString(body) }),
      );
    } catch (error) {
      if (error instanceof SiteDataError) throw error;
      throw new SiteTemplateError(`rendering ${name}: ${(error as Error).message}`);
    }
  }

  private templatesFor(serviceRoot: string): Promise<Templates> {
    if (this.templates === undefined || this.templatesRoot !== serviceRoot) {
      this.templatesRoot = serviceRoot;
      this.templates = loadTemplates(serviceRoot);
      this.templates.catch(() => (this.templates = undefined)); // a fixed checkout is retried
    }
    return this.templates;
  }

  private descriptorsFor(dataRoot: string): PropertyDescriptorMap {
    if (this.data?.root !== dataRoot) {
      this.data = { root: dataRoot, descriptors: dataDescriptors(dataRoot) };
    }
    return this.data.descriptors;
  }
}

async function loadTemplates(root: string): Promise<Templates> {
  const hb = Handlebars.create();
  registerHelpers(hb);
  const partialsDir = path.join(root, 'partials');
  for (const file of await listTemplates(partialsDir)) {
    const name = path
      .relative(partialsDir, file)
      .replace(/\.hbs$/i, '')
      .split(path.sep)
      .join('/');
    const rel = path.relative(root, file);
    const source = await readFile(file, 'utf8');
    checkSyntax(hb, rel, source);
    hb.registerPartial(name, source);
  }
  let layout: Template | undefined;
  const layoutFile = await resolveInside(root, ['layout.hbs'], [root]);
  if (layoutFile.kind === 'file') {
    layout = compile(hb, 'layout.hbs', await readFile(layoutFile.path, 'utf8'));
  }
  return { root, hb, layout, pages: new Map() };
}

async function listTemplates(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listTemplates(full)));
    else if (entry.isFile() && /\.hbs$/i.test(entry.name)) found.push(full);
  }
  return found.sort();
}

function compile(hb: typeof Handlebars, name: string, source: string): Template {
  checkSyntax(hb, name, source);
  return hb.compile(source);
}

function checkSyntax(hb: typeof Handlebars, name: string, source: string): void {
  try {
    hb.parse(source);
  } catch (error) {
    throw new SiteTemplateError(`template ${name}: ${(error as Error).message}`);
  }
}

function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  hb.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
  hb.registerHelper('lt', (a: unknown, b: unknown) => Number(a) < Number(b));
  hb.registerHelper('not', (a: unknown) => !a);
  hb.registerHelper('len', (a: unknown) =>
    Array.isArray(a) ? a.length : a !== null && typeof a === 'object' ? Object.keys(a).length : 0,
  );
  hb.registerHelper('json', (a: unknown) => JSON.stringify(a, null, 2));
}
