#!/usr/bin/env node
// Docs against code. Fails when an example imports a name its @jit-provision entry does not export, when an
// example calls one of our names that exists nowhere (e.g. `kratosWebhooksCore(...)`), when Markdown
// names a repository path that does not exist, or when a TypeScript block of the Markdown does not compile
// (section 4: how a block declares what it assumes, or opts out). Examples are the TSDoc `@example` blocks of packages/*/src
// and the ts/js code blocks of the READMEs and docs/; what each entry exports is read from its sources by
// the TypeScript compiler, each entry found through package.json `exports` and the package's tsup entries.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = process.cwd();
// Entries without sources of their own: a post-build step writes them as re-exports of another entry
// (packages/core/scripts/testing-shim.mjs), so an example may import from either and is checked the same.
const REEXPORTED_ENTRIES = new Map([['@jit-provision/core/testing', '@jit-provision/testing']]);

const walk = (dir, keep) =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((name) => {
        if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
        const path = join(dir, name);
        return statSync(path).isDirectory() ? walk(path, keep) : keep(path) ? [path] : [];
      })
    : [];
const rel = (path) => relative(root, path);

// ---- 1. Every public entry and what it exports --------------------------------------------------------

// Entries of private workspace packages (the examples' shared half): a user cannot install them, so a
// Markdown example must not import them.
const PRIVATE = new Set();

/** specifier ('@jit-provision/core/adapter') → source file, from package.json `exports` + tsup.config.ts. */
function entrySources() {
  const sources = new Map();
  const dirs = ['packages', 'examples'].flatMap((parent) =>
    readdirSync(join(root, parent)).map((dir) => join(root, parent, dir)),
  );
  for (const dir of dirs) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    const tsup = join(dir, 'tsup.config.ts');
    const tsupEntries = new Map(
      existsSync(tsup)
        ? [...readFileSync(tsup, 'utf8').matchAll(/(\w+):\s*'(src\/[^']+\.ts)'/g)].map((m) => [m[1], m[2]])
        : [],
    );
    for (const [subpath, target] of Object.entries(pkg.exports ?? (pkg.main ? { '.': pkg.main } : {}))) {
      if (subpath.endsWith('package.json')) continue;
      const file = typeof target === 'string' ? target : (target?.import?.default ?? target?.default);
      // A private workspace package (the examples' shared half) exports its sources directly.
      const name = /dist\/(.+)\.[cm]?js$/.exec(file ?? '')?.[1];
      const src = file?.endsWith('.ts')
        ? file
        : (tsupEntries.get(name) ?? (name === 'index' ? 'src/index.ts' : `src/${name}/index.ts`));
      const path = join(dir, src);
      if (pkg.private) PRIVATE.add(pkg.name + subpath.slice(1));
      if (existsSync(path)) sources.set(pkg.name + subpath.slice(1), path);
      else if (!REEXPORTED_ENTRIES.has(pkg.name + subpath.slice(1)))
        console.error(`check-doc-examples: no source for ${pkg.name}${subpath.slice(1)} (${rel(path)})`);
    }
  }
  for (const [entry, target] of REEXPORTED_ENTRIES) {
    if (sources.has(target)) sources.set(entry, sources.get(target));
  }
  return sources;
}

function exportsOf(program, sources) {
  const checker = program.getTypeChecker();
  const exports = new Map();
  for (const [specifier, path] of sources) {
    const file = program.getSourceFile(path);
    const symbol = file && checker.getSymbolAtLocation(file);
    exports.set(specifier, new Set(symbol ? checker.getExportsOfModule(symbol).map((s) => s.name) : []));
  }
  return exports;
}

// ---- 2. The examples ----------------------------------------------------------------------------------

/** `{ where, code }` of each fenced ts/js block in a TSDoc `@example` of our sources. */
function tsdocExamples() {
  const files = readdirSync(join(root, 'packages')).flatMap((dir) =>
    walk(join(root, 'packages', dir, 'src'), (p) => p.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(p)),
  );
  const blocks = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
      if (!comment[0].includes('@example')) continue;
      const body = comment[0]
        .split('\n')
        .map((line) => line.replace(/^\s*\/?\*+\/?\s?/, ''))
        .join('\n');
      const line = text.slice(0, comment.index).split('\n').length;
      for (const code of fencedBlocks(body.slice(body.indexOf('@example')))) {
        blocks.push({ where: `${rel(file)}:${line}`, code });
      }
    }
  }
  return blocks;
}

const fencedBlocks = (text) =>
  [...text.matchAll(/```(ts|typescript|js|javascript|mjs|tsx)?[ \t]*\n([\s\S]*?)```/g)]
    .filter((m) => m[1] !== undefined || !/^\s*\$/.test(m[2])) // an untagged fence in TSDoc is code; `$` is a shell
    .map((m) => m[2]);

const markdownFiles = () => [
  ...['README.md', 'CONTRIBUTING.md'].map((f) => join(root, f)).filter(existsSync),
  ...readdirSync(join(root, 'packages'))
    .map((dir) => join(root, 'packages', dir, 'README.md'))
    .filter(existsSync),
  ...walk(join(root, 'docs'), (p) => p.endsWith('.md')),
];

// A Markdown block may be preceded (blank lines apart) by one HTML comment for this check, invisible when
// rendered:
//   <!-- doc-example: prelude
//   import type { Provisioner } from '@jit-provision/core';
//   declare const provisioner: Provisioner;
//   -->
// declares what the block assumes (compiled before it; the reader sees the block alone), or
//   <!-- doc-example: fragment — <why it cannot compile on its own> -->
// exempts the block from the typecheck (its imports and calls are still checked). Keep fragments rare.
const MARKER = /<!--\s*doc-example:\s*(prelude|fragment)\b((?:(?!-->)[\s\S])*)-->\s*$/;

function markdownExamples() {
  const blocks = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/```(ts|typescript|js|javascript|mjs|tsx)([^\n]*)\n([\s\S]*?)```/g)) {
      const line = text.slice(0, m.index).split('\n').length;
      const block = { where: `${rel(file)}:${line}`, file: rel(file), line, lang: m[1], code: m[3] };
      const marker = MARKER.exec(text.slice(Math.max(0, m.index - 4000), m.index));
      if (marker?.[1] === 'prelude') {
        block.prelude = marker[2].replace(/^[ \t]*\n/, '');
        block.preludeLine = text.slice(0, m.index - marker[0].length).split('\n').length + 1;
      }
      if (marker?.[1] === 'fragment') block.fragment = marker[2].replace(/^\s*[—:-]?\s*/, '').trim();
      blocks.push(block);
    }
  }
  return blocks;
}

// ---- 3. Checks ----------------------------------------------------------------------------------------

const IMPORT =
  /import\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*['"](@jit-provision\/[^'"]+)['"]/g;

function checkExamples(blocks, exports) {
  const problems = [];
  const everyExport = new Set([...exports.values()].flatMap((names) => [...names]));
  for (const { where, code, file } of blocks) {
    const local = new Set();
    for (const [, list, specifier] of code.matchAll(IMPORT)) {
      const names = exports.get(specifier);
      if (names === undefined) {
        problems.push(`${where}: imports from ${specifier}, which is no entry of any package`);
        continue;
      }
      if (file !== undefined && PRIVATE.has(specifier))
        problems.push(
          `${where}: imports from ${specifier}, a private workspace package users cannot install`,
        );
      for (const item of list.split(',')) {
        const [imported, alias] = item
          .replace(/\/\/.*$/gm, '')
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/);
        if (!imported) continue;
        local.add(alias ?? imported);
        if (!names.has(imported)) problems.push(`${where}: ${specifier} exports no \`${imported}\``);
      }
    }
    // Names this block declares or imports from elsewhere (a framework, node:, a relative file).
    for (const m of code.matchAll(/import\s+(?:type\s+)?([\s\S]*?)\s+from\s/g)) {
      for (const name of m[1].match(/[\w$]+/g) ?? []) local.add(name);
    }
    for (const m of code.matchAll(/\b(?:function|const|let|var|class)\s+([\w$]+)/g)) local.add(m[1]);
    // Called, not a method, not ours-by-import, exported nowhere, yet named after one of our exports
    // (`kratosWebhooksCore` after `kratosWebhooks`): an example calling something that does not exist.
    for (const m of code.matchAll(/(?<![\w$.])([a-z][\w$]*)\s*\(/g)) {
      const name = m[1];
      if (local.has(name) || everyExport.has(name)) continue;
      const after = [...everyExport].find((ours) => ours.length >= 8 && name.startsWith(ours));
      if (after !== undefined)
        problems.push(`${where}: calls \`${name}\`, which no entry exports (after \`${after}\`?)`);
    }
  }
  return problems;
}

const FILE = String.raw`[\w@.\-/]+\.(?:ts|mts|cts|mjs|cjs|js|json|sql|md)\b`;
// A path from the repository root as prose writes it (`packages/core/src/token/verifier.ts`), and the
// target of a relative Markdown link (`[store.ts](../core/src/store/store.ts)`).
const REPO_PATH = new RegExp(String.raw`(?<![\w/.])(?:packages|examples|bench|scripts)/${FILE}`, 'g');
const LINK = new RegExp(String.raw`\]\((\.{1,2}/${FILE})(?:#[^)]*)?\)`, 'g');

function checkPaths() {
  const problems = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(file, 'utf8');
    const found = [
      ...[...text.matchAll(REPO_PATH)].map((m) => ({ index: m.index, path: m[0] })),
      ...[...text.matchAll(LINK)].map((m) => ({ index: m.index, path: rel(join(file, '..', m[1])) })),
    ];
    for (const { index, path } of found) {
      if (!existsSync(join(root, path))) {
        problems.push(`${rel(file)}:${text.slice(0, index).split('\n').length}: no such file ${path}`);
      }
    }
  }
  return problems;
}

// ---- 4. Typecheck -------------------------------------------------------------------------------------

// Every TypeScript block of the Markdown is compiled as its own module, in one program, the way a user would
// compile it: `strict`, ES2022 modules, Node's types; `@jit-provision/*` resolved to the published entries'
// sources (a private workspace package does not resolve: a user cannot install it), any other package from
// the workspace's installed ones. Blocks are virtual files under .doc-examples/ (nothing is written); errors
// point at the Markdown line. Duplicate identifiers in one block (three frameworks' `adminApi`) are errors.
const TYPECHECKED = new Set(['ts', 'typescript', 'tsx']);
const VIRTUAL_DIR = join(root, '.doc-examples');

function compilerOptions(sources) {
  if (!existsSync(join(root, 'node_modules/.pnpm/node_modules'))) {
    console.error(
      'check-doc-examples: node_modules/.pnpm/node_modules is missing (pnpm install, with the default hoist-pattern): ' +
        'the examples import express, pg, pino… from there',
    );
    process.exit(1);
  }
  const published = [...sources].filter(([specifier]) => !PRIVATE.has(specifier));
  return {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.Preserve,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force, // a block without imports is still its own scope
    types: ['node'],
    resolveJsonModule: true,
    skipLibCheck: true,
    jsx: ts.JsxEmit.ReactJSX,
    baseUrl: root,
    paths: {
      ...Object.fromEntries(published.map(([specifier, path]) => [specifier, [path]])),
      '@jit-provision/*': [join(root, '.no-such-entry/*')],
      // pnpm's hidden hoist directory links every installed package: the frameworks, pg, pino, OpenTelemetry.
      '*': [
        join(root, 'node_modules/.pnpm/node_modules/@types/*'),
        join(root, 'node_modules/.pnpm/node_modules/*'),
      ],
    },
  };
}

/** The Markdown blocks to typecheck, as virtual files: path → { block, text, preludeLines }. */
function virtualFiles(blocks) {
  const checked = blocks.filter(
    (b) => b.file !== undefined && TYPECHECKED.has(b.lang) && b.fragment === undefined,
  );
  const files = new Map();
  for (const block of checked) {
    const prelude = block.prelude ?? '';
    const name = `${block.file.replace(/[^\w]+/g, '_')}_${block.line}.${block.lang === 'tsx' ? 'tsx' : 'ts'}`;
    files.set(join(VIRTUAL_DIR, name), {
      block,
      text: prelude + block.code,
      preludeLines: prelude === '' ? 0 : prelude.split('\n').length - 1,
    });
  }
  return files;
}

/** One program for everything: the entries' sources (whose exports the import check reads) and the blocks. */
function createProgram(sources, files) {
  const options = compilerOptions(sources);
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => files.has(path) || fileExists(path);
  host.readFile = (path) => files.get(path)?.text ?? readFile(path);
  host.getSourceFile = (path, version, ...rest) =>
    files.has(path)
      ? ts.createSourceFile(path, files.get(path).text, version)
      : getSourceFile(path, version, ...rest);
  return ts.createProgram([...sources.values(), ...files.keys()], options, host);
}

function typecheck(program, files) {
  const problems = [];
  for (const [path, { block, preludeLines }] of files) {
    const source = program.getSourceFile(path);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
      if (d.start === undefined) {
        problems.push(`${block.where}: TS${d.code} ${message}`);
        continue;
      }
      const { line, character } = source.getLineAndCharacterOfPosition(d.start);
      const at =
        line < preludeLines
          ? `${block.file}:${block.preludeLine + line}:${character + 1} (the block's prelude)`
          : `${block.file}:${block.line + 1 + line - preludeLines}:${character + 1}`;
      problems.push(`${at}: TS${d.code} ${message}`);
    }
  }
  return problems;
}

const sources = entrySources();
const markdown = markdownExamples();
const fragments = markdown.filter((b) => b.fragment !== undefined);
const files = virtualFiles(markdown);
const program = createProgram(sources, files);
const exports = exportsOf(program, sources);
const problems = [
  ...checkExamples([...tsdocExamples(), ...markdown], exports),
  ...fragments
    .filter((b) => b.fragment === '')
    .map((b) => `${b.where}: a fragment marker says why it is one`),
  ...new Set(checkPaths()),
  ...typecheck(program, files),
];
for (const problem of problems) console.error(problem);
if (problems.length > 0) {
  console.error(
    `check-doc-examples: ${problems.length} problem(s). A TS error is in a Markdown example at that line; ` +
      'if the block relies on names it does not declare, complete it or give it a ' +
      '`<!-- doc-example: prelude ... -->` comment (section 2 of scripts/check-doc-examples.mjs says how).',
  );
  process.exit(1);
}
console.log(
  `docs match code: imports and calls of examples against ${exports.size} entries, repository paths; ` +
    `${files.size} TypeScript blocks of the Markdown typecheck (${fragments.length} marked fragments)`,
);
