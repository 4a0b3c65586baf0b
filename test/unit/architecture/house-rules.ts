/**
 * The house rules of docs/architecture.md, read from the source text with the TypeScript compiler (no build, no
 * execution): which file imports which, where SQL is written, and what a driver module keeps at its top level.
 * Each check returns the violations as short lines (`from -> to`, `file:line text`), so a failing test says where.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface SourceFile {
  /** Path from the repository root, with forward slashes (`src/core/bus.ts`). */
  path: string;
  text: string;
  /** Project files it imports (static, type-only, re-exports and dynamic `import()`), as paths like `path`. */
  imports: string[];
  /** Package and builtin specifiers it imports (`node:dgram`, `zod`). */
  packages: string[];
}

/** Every .ts file under these folders of `root`, parsed for imports. */
export function readTree(root: string, folders: readonly string[]): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(parse(root, path));
    }
  };
  for (const f of folders) walk(f);
  return files;
}

function parse(root: string, path: string): SourceFile {
  const text = readFileSync(join(root, path), 'utf8');
  const info = ts.preProcessFile(text, true, true);
  const imports: string[] = [];
  const packages: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) {
      packages.push(fileName);
      continue;
    }
    const abs = resolve(root, dirname(path), fileName);
    const candidates = [abs.replace(/\.js$/, '.ts'), abs, `${abs}.ts`, join(abs, 'index.ts')];
    const hit = candidates.find((c) => c.endsWith('.ts') && existsSync(c)) ?? abs;
    imports.push(relative(root, hit).split('\\').join('/'));
  }
  return { path, text, imports, packages };
}

const under = (path: string, folder: string): boolean => path.startsWith(`${folder}/`);

/** Imports from a file in `folder` to a project file outside it. */
export function importsLeaving(files: readonly SourceFile[], folder: string): string[] {
  return files
    .filter((f) => under(f.path, folder))
    .flatMap((f) => f.imports.filter((to) => !under(to, folder)).map((to) => `${f.path} -> ${to}`));
}

/** Imports of files in `folder` from files outside it and outside every folder in `allowed`. */
export function importsInto(files: readonly SourceFile[], folder: string, allowed: readonly string[]): string[] {
  const mayImport = (path: string) => under(path, folder) || allowed.some((a) => under(path, a));
  return files
    .filter((f) => !mayImport(f.path))
    .flatMap((f) => f.imports.filter((to) => under(to, folder)).map((to) => `${f.path} -> ${to}`));
}

/** SQL statements as they start (upper case, as the project writes them), and the database handle's own methods. */
const SQL_TEXT =
  /^\s*(SELECT\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|PRAGMA\s|CREATE\s+(TABLE|INDEX|TRIGGER)\s|DROP\s+TABLE\s|ALTER\s+TABLE\s|VACUUM\b|BEGIN\b)/;
const SQL_METHODS = new Set(['prepare', 'pragma', 'exec', 'transaction']);

/**
 * Places outside `folder` that speak SQL: a string or template that starts like an SQL statement, a call of
 * `prepare`/`pragma`/`exec`/`transaction` on something named like a database (`db`, `this.db`, `store.db`), or an
 * import of better-sqlite3.
 */
export function sqlOutside(files: readonly SourceFile[], folder: string): string[] {
  const found: string[] = [];
  for (const f of files) {
    if (under(f.path, folder)) continue;
    if (f.packages.includes('better-sqlite3')) found.push(`${f.path}: imports better-sqlite3`);
    const sf = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.ES2022, true);
    const at = (node: ts.Node) => `${f.path}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) {
        if (SQL_TEXT.test(node.text)) found.push(`${at(node)} SQL text "${node.text.slice(0, 40)}"`);
      }
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const { name, expression } = node.expression;
        const receiver = ts.isPropertyAccessExpression(expression) ? expression.name.text : expression.getText(sf);
        if (SQL_METHODS.has(name.text) && /^(db|database|sqlite)$/i.test(receiver)) {
          found.push(`${at(node)} ${node.expression.getText(sf)}()`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

/** Cycles in the import graph (Tarjan's strongly connected components), each as its files in a sorted line. */
export function importCycles(files: readonly SourceFile[]): string[] {
  const edges = new Map(files.map((f) => [f.path, f.imports.filter((to) => to !== f.path)]));
  const selfLoops = files.filter((f) => f.imports.includes(f.path)).map((f) => f.path);
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = selfLoops.map((p) => p);
  // Iterative, so a long chain of imports cannot overflow the call stack.
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const out = edges.get(top.node) ?? [];
      if (top.next < out.length) {
        const to = out[top.next++]!;
        if (!edges.has(to)) continue;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== top.node);
        if (component.length > 1) cycles.push(component.sort().join(' <-> '));
      }
    }
  }
  return cycles.sort();
}

const MUTABLE_CONTAINERS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'Array']);

/**
 * Module-level state in `folder`: a top-level `let`/`var`, or a top-level `const` holding an empty container
 * (`new Map()`, `new WeakMap()`, `[]`, `{}`) to be filled at run time. A `const` table built from literals
 * (`new Set([5000, 9999])`) is a constant and allowed.
 */
export function moduleState(files: readonly SourceFile[], folder: string): string[] {
  const found: string[] = [];
  for (const f of files) {
    if (!under(f.path, folder)) continue;
    const sf = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.ES2022, true);
    for (const stmt of sf.statements) {
      if (!ts.isVariableStatement(stmt)) continue;
      const list = stmt.declarationList;
      const line = sf.getLineAndCharacterOfPosition(stmt.getStart()).line + 1;
      const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
      for (const d of list.declarations) {
        const name = d.name.getText(sf);
        if (!isConst) {
          found.push(`${f.path}:${line} ${name} (let/var)`);
          continue;
        }
        const init = d.initializer;
        const empty =
          init !== undefined &&
          ((ts.isNewExpression(init) &&
            ts.isIdentifier(init.expression) &&
            MUTABLE_CONTAINERS.has(init.expression.text) &&
            (init.arguments?.length ?? 0) === 0) ||
            (ts.isArrayLiteralExpression(init) && init.elements.length === 0) ||
            (ts.isObjectLiteralExpression(init) && init.properties.length === 0));
        if (empty) found.push(`${f.path}:${line} ${name} (${init.getText(sf)})`);
      }
    }
  }
  return found;
}

/** Imports from files in `folder` of packages or builtins in `banned`. */
export function packagesUsed(files: readonly SourceFile[], folder: string, banned: readonly string[]): string[] {
  return files
    .filter((f) => under(f.path, folder))
    .flatMap((f) => f.packages.filter((p) => banned.includes(p)).map((p) => `${f.path} -> ${p}`));
}
