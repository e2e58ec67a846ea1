// The handlebars templates in userdata/ (the first-boot script and its MIME launcher part):
// found next to the package, compiled once, with `shq` the only way a value enters a shell template.
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GitstrapError } from '../lib/errors.js';
import { packageRoot } from '../lib/package-root.js';
import { quoteShell } from './shell-quote.js';

/** The template files, by the name the renderer uses. */
export const TEMPLATE_FILES = {
  firstBoot: 'first-boot.sh.hbs',
  firstBootPart: 'first-boot-part.sh.hbs',
} as const;

export type TemplateName = keyof typeof TEMPLATE_FILES;
export type Templates = Record<TemplateName, (context: object) => string>;

const handlebars = Handlebars.create();
handlebars.registerHelper('shq', (value: unknown) => {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new Error(`shq expects a string or a number, got ${typeof value}`);
  }
  return quoteShell(value);
});

const compiled = new Map<string, Templates>();

/** The userdata/ folder of the running gitstrap package. */
export function defaultTemplatesDir(): string {
  const root = packageRoot();
  if (!root) {
    throw new GitstrapError("cannot find gitstrap's userdata/ templates", {
      hint: 'render user-data with the installed gitstrap command (npm install -g gitstrap), not the agent bundle',
    });
  }
  return path.join(root, 'userdata');
}

/** Every template in `dir`, compiled (cached per folder). Shell templates must quote every value. */
export function loadTemplates(dir: string = defaultTemplatesDir()): Templates {
  const cached = compiled.get(dir);
  if (cached) return cached;
  const templates = {} as Templates;
  for (const [name, file] of Object.entries(TEMPLATE_FILES) as Array<[TemplateName, string]>) {
    templates[name] = compileTemplateFile(path.join(dir, file), 'user-data template', {
      shell: file.endsWith('.sh.hbs'),
    });
  }
  compiled.set(dir, templates);
  return templates;
}

/**
 * Reads and compiles one template of gitstrap's userdata/ folder (`what` names it in errors). In a
 * shell template every value must go through shq: one that does not is refused.
 */
export function compileTemplateFile(
  full: string,
  what: string,
  options: { shell: boolean },
): (context: object) => string {
  let source: string;
  try {
    source = readFileSync(full, 'utf8');
  } catch (error) {
    throw new GitstrapError(
      `cannot read the ${what} ${full}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { hint: 'reinstall gitstrap: its userdata/ folder is incomplete' },
    );
  }
  if (options.shell) {
    const unquoted = findUnquotedValues(source);
    if (unquoted.length) {
      throw new GitstrapError(
        `${full} puts values into a shell script without quoting them: ${unquoted.join(', ')}`,
        { hint: 'write {{shq value}} for every value in a shell template' },
      );
    }
  }
  const template = handlebars.compile(source, { noEscape: true, strict: true });
  return (context) => template(context);
}

/** The mustaches in a shell template that print a value without `shq` (and any partials). */
export function findUnquotedValues(source: string): string[] {
  const found: string[] = [];
  const visit = (program: hbs.AST.Program | undefined): void => {
    for (const statement of program?.body ?? []) {
      if (statement.type === 'MustacheStatement') {
        const m = statement as hbs.AST.MustacheStatement;
        const name = (m.path as hbs.AST.PathExpression).original ?? String(m.path);
        if (name !== 'shq' || !m.escaped || m.params.length !== 1) {
          found.push(`{{${name}}} at line ${m.loc.start.line}`);
        }
      } else if (statement.type === 'BlockStatement') {
        const b = statement as hbs.AST.BlockStatement;
        visit(b.program);
        visit(b.inverse);
      } else if (
        statement.type === 'PartialStatement' ||
        statement.type === 'PartialBlockStatement'
      ) {
        found.push(`a partial at line ${statement.loc.start.line}`);
      }
    }
  };
  visit(handlebars.parse(source));
  return found;
}
