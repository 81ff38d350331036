// The house plan, checked: arrows between the project's modules point down only and never close a cycle.
// nodes/ imports only zod and itself (it runs in the browser and the server); app/ reaches the server only
// through its API layer (server/api/); each server room imports only the rooms below it; no production module
// imports a test helper. Imports are read with TypeScript's own pre-processor (type imports count too).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "./platform/paths";

/** The server's rooms, lowest first: a room may import the rooms before it (and nodes/), never those after it. */
const SERVER_ROOMS = ["platform", "images", "storage", "db", "models", "inference", "runs", "api", "cli", "bench"];
/** Test helpers: only tests and the bench may import them. */
const TEST_SUPPORT = ["server/test-support/", "fixtures/"];

const isTest = (file: string) => /\.(test|spec)\.tsx?$/.test(file);

function sourceFiles(dir: string, pattern = /\.(ts|tsx)$/): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return ["node_modules", "generated"].includes(entry.name) || entry.name.startsWith(".") ? [] : sourceFiles(relative, pattern);
    return pattern.test(entry.name) && !entry.name.endsWith(".d.ts") ? [relative] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = path.join(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}.mjs`, `${base}/index.ts`]) {
    try {
      if (statSync(path.join(REPO_ROOT, candidate)).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

interface Import {
  from: string;
  /** A project file (relative to the repository root), or a package name. */
  to: string;
  local: boolean;
}

const files = ["nodes", "server", "app", "fixtures"].flatMap((dir) => sourceFiles(dir));
const imports: Import[] = files.flatMap((from) =>
  ts.preProcessFile(readFileSync(path.join(REPO_ROOT, from), "utf8"), true, true).importedFiles.map(({ fileName }) => {
    if (!fileName.startsWith(".")) return { from, to: fileName, local: false };
    const to = resolveImport(from, fileName);
    assert.ok(to, `${from}: cannot resolve "${fileName}"`);
    return { from, to, local: true };
  }),
);
const production = imports.filter((edge) => !isTest(edge.from));

test("no import cycles among the production modules of nodes/, server/ and app/", () => {
  const next = new Map<string, string[]>();
  for (const { from, to, local } of production) if (local) next.set(from, [...(next.get(from) ?? []), to]);
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") {
      cycles.push([...trail.slice(trail.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "visiting");
    for (const to of next.get(file) ?? []) visit(to, [...trail, file]);
    state.set(file, "done");
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});

test("nodes/ imports only zod and nodes/", () => {
  const outside = production.filter(({ from, to, local }) => from.startsWith("nodes/") && (local ? !to.startsWith("nodes/") : to !== "zod"));
  assert.deepEqual(outside.map(({ from, to }) => `${from} -> ${to}`), []);
});

test("app/ reaches the server only through server/api/", () => {
  const inner = production.filter(({ from, to }) => from.startsWith("app/") && to.startsWith("server/") && !to.startsWith("server/api/"));
  assert.deepEqual(inner.map(({ from, to }) => `${from} -> ${to}`), []);
});

test("each server room imports only the rooms below it, and no production module imports a test helper", () => {
  const room = (file: string) => SERVER_ROOMS.indexOf(file.split("/")[1].replace(/\.tsx?$/, ""));
  const unknownRooms = files.filter((file) => file.startsWith("server/") && file.split("/").length > 2 && !file.startsWith("server/test-support/") && room(file) === -1);
  assert.deepEqual(unknownRooms, [], `server/ rooms are ${SERVER_ROOMS.join(", ")} and test-support`);
  const upward = production.filter(({ from, to }) => from.startsWith("server/") && !from.startsWith("server/test-support/") && to.startsWith("server/") && !to.startsWith("server/test-support/") && room(to) > room(from));
  assert.deepEqual(upward.map(({ from, to }) => `${from} -> ${to}`), []);
  const helpers = production.filter(({ from, to }) => TEST_SUPPORT.some((dir) => to.startsWith(dir)) && !TEST_SUPPORT.some((dir) => from.startsWith(dir)) && !from.startsWith("server/bench/"));
  assert.deepEqual(helpers.map(({ from, to }) => `${from} -> ${to}`), []);
});

function bindingNames(name: ts.BindingName): string[] {
  return ts.isIdentifier(name) ? [name.text] : name.elements.flatMap((element) => (ts.isOmittedExpression(element) ? [] : bindingNames(element.name)));
}

/** Names a module exports (declarations and `export { }` lists), and the names other modules import from it. */
function exportedNames(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(path.join(REPO_ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  for (const statement of source.statements) {
    const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
    if (modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.DefaultKeyword)) {
      names.push("default");
    } else if (modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)) {
      if (ts.isVariableStatement(statement)) for (const declaration of statement.declarationList.declarations) names.push(...bindingNames(declaration.name));
      else if ("name" in statement && statement.name && ts.isIdentifier(statement.name as ts.Node)) names.push((statement.name as ts.Identifier).text);
    } else if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) names.push(element.name.text);
    }
  }
  return names;
}

/** Every `import { a, b as c }` / `export { a } from` of a project module, and each `(await import(x)).name`. */
function importedNames(file: string): { to: string; names: string[] | "all" }[] {
  const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { to: string; names: string[] | "all" }[] = [];
  const target = (specifier: string) => (specifier.startsWith(".") ? resolveImport(file, specifier) : undefined);
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const to = target(node.moduleSpecifier.text);
      if (to) {
        const clause = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
        if (clause && (ts.isNamedImports(clause) || ts.isNamedExports(clause))) found.push({ to, names: clause.elements.map((element) => (element.propertyName ?? element.name).text) });
        else found.push({ to, names: "all" });
      }
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0])) {
      const to = target(node.arguments[0].text);
      // `(await import("./x")).name`: the property read off the module.
      const access = node.parent?.parent?.parent;
      if (to) found.push({ to, names: access && ts.isPropertyAccessExpression(access) ? [access.name.text] : "all" });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test("no export of nodes/, server/ or app/ is used nowhere (Next's own route and page exports aside)", () => {
  const importers = [...files, ...["e2e", "scripts", "bin", "prisma"].flatMap((dir) => sourceFiles(dir, /\.(ts|tsx|mjs)$/)), "prisma.config.ts", "playwright.config.ts", "instrumentation.ts"];
  const used = new Map<string, Set<string> | "all">();
  for (const file of importers) {
    for (const { to, names } of importedNames(file)) {
      const known = used.get(to);
      if (names === "all" || known === "all") used.set(to, "all");
      else used.set(to, new Set([...(known ?? []), ...names]));
    }
  }
  const framework = new Set(["default", "GET", "POST", "PUT", "PATCH", "DELETE", "dynamic", "metadata", "runtime", "register"]);
  const unused = files
    .filter((file) => !isTest(file) && !file.startsWith("fixtures/"))
    .flatMap((file) => {
      const names = used.get(file);
      if (names === "all") return [];
      // Used in its own module (a type in an exported signature, a helper of its own): exported for readers, not dead.
      const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
      const usedHere = (name: string) => (text.match(new RegExp(`\\b${name}\\b`, "g")) ?? []).length > 1;
      return exportedNames(file)
        .filter((name) => !names?.has(name) && !usedHere(name) && !(file.startsWith("app/") && framework.has(name)))
        .map((name) => `${file}: ${name}`);
    });
  assert.deepEqual(unused, []);
});

test("running a graph in this process (runs/run-pipeline.ts: the CLI, the bench) does not load the database", () => {
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const { to } of production.filter((edge) => edge.from === file && edge.local)) visit(to);
  };
  visit("server/runs/run-pipeline.ts");
  assert.ok(!reached.has("server/db/client.ts"), "run-pipeline.ts reaches server/db/client.ts (Prisma: tens of MB and a slower start for every CLI run)");
});
