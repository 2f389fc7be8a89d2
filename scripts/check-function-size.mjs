#!/usr/bin/env node
// Fails when a function in a package's sources (tests excluded, kits included) spans more than MAX lines.
// `node scripts/check-function-size.mjs --report` prints, per package, the file count and the largest function.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const MAX = 120;
const report = process.argv.includes('--report');
const packages = readdirSync('packages').filter((name) =>
  statSync(join('packages', name, 'src'), { throwIfNoEntry: false }),
);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(path) ? [path] : [];
  });
}

function functionName(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  const parent = node.parent;
  if (
    parent &&
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) &&
    ts.isIdentifier(parent.name)
  )
    return parent.name.text;
  return '(anonymous)';
}

let failed = false;
for (const pkg of packages) {
  const sources = files(join('packages', pkg, 'src'));
  let largest = { lines: 0, where: '' };
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.end).line;
        const lines = end - start + 1;
        const where = `${relative('.', file)}:${start + 1} ${functionName(node)}`;
        if (lines > largest.lines) largest = { lines, where };
        if (lines > MAX && !report) {
          console.error(`${where}: ${lines} lines (at most ${MAX}); split it along its seams`);
          failed = true;
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  if (report)
    console.log(
      `${pkg}: ${sources.length} source files; largest function ${largest.lines} lines (${largest.where})`,
    );
}
if (failed) process.exit(1);
if (!report) console.log(`no function over ${MAX} lines in packages/*/src`);
