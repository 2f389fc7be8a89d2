#!/usr/bin/env node
// Fails when a test file sits anywhere but beside the code in src/ (docs/decisions/0006): vitest only looks
// in packages/*/src and examples/*/src, so a test elsewhere would never run, and nobody would notice.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const TEST = /\.test(-d)?\.[cm]?[jt]s$/;
const SKIP = new Set(['node_modules', 'dist', '.turbo', 'coverage']);

function tests(dir) {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tests(path);
    return TEST.test(name) ? [path] : [];
  });
}

const misplaced = ['packages', 'examples']
  .flatMap((root) => readdirSync(root).map((name) => join(root, name)))
  .filter((dir) => statSync(dir).isDirectory())
  .flatMap((dir) => tests(dir).filter((file) => !file.startsWith(`${join(dir, 'src')}/`)));
for (const file of misplaced)
  console.error(`${file}: tests live beside the code in src/ (docs/decisions/0006)`);
if (misplaced.length > 0) process.exit(1);
console.log('every test sits beside the code in src/');
