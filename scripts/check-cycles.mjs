#!/usr/bin/env node
// Fails when a package's sources import each other in a cycle (type-only imports included: a cycle of
// types is still a tangle). Equivalent to `madge --circular --extensions ts`, without the dependency.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const roots = process.argv.slice(2);
if (roots.length === 0) roots.push('packages/core/src');

const IMPORT = /(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

function target(from, spec) {
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

let failed = false;
for (const root of roots) {
  const graph = new Map();
  for (const file of files(resolve(root))) {
    const deps = [];
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const dep = target(file, spec);
      if (dep !== undefined) deps.push(dep);
    }
    graph.set(file, deps);
  }
  const state = new Map(); // 1: on the stack, 2: done
  const stack = [];
  const visit = (file) => {
    state.set(file, 1);
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 1) {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep].map((f) => relative(process.cwd(), f));
        console.error(`import cycle: ${cycle.join(' -> ')}`);
        failed = true;
      } else if (state.get(dep) === undefined) visit(dep);
    }
    stack.pop();
    state.set(file, 2);
  };
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
}
if (failed) process.exit(1);
console.log(`no import cycles in ${roots.join(', ')}`);
