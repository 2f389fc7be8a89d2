import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type EntryName, entries, internal } from './test-support';

const core = fileURLToPath(new URL('../', import.meta.url));
const sourceOf: Record<EntryName, string> = {
  root: 'src/index.ts',
  adapter: 'src/adapter/index.ts',
  admin: 'src/admin/index.ts',
  kratos: 'src/kratos/index.ts',
  backchannel: 'src/backchannel/index.ts',
  dev: 'src/dev/index.ts',
};
const names = Object.keys(entries) as EntryName[];
const sorted = (list: readonly string[]) => [...list].sort();

/** Every export of each entry as the compiler sees it: a value, or a type only (`export type`, interfaces). */
function compilerExports(): Record<EntryName, { values: string[]; types: string[] }> {
  const files = names.map((name) => join(core, sourceOf[name]));
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Preserve,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const typeOnly = (symbol: ts.Symbol) =>
    (symbol.declarations ?? []).some(
      (d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly),
    );
  const result = {} as Record<EntryName, { values: string[]; types: string[] }>;
  for (const [i, name] of names.entries()) {
    const source = program.getSourceFile(files[i] as string);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`cannot read ${sourceOf[name]}`);
    const values: string[] = [];
    const types: string[] = [];
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const isValue = (target.flags & ts.SymbolFlags.Value) !== 0 && !typeOnly(symbol);
      (isValue ? values : types).push(symbol.name);
    }
    result[name] = { values: values.sort(), types: types.sort() };
  }
  return result;
}

describe('core public entries, as the compiler sees the sources', () => {
  const actual = compilerExports();
  for (const name of names) {
    it(`${entries[name].specifier}: exactly the values and types listed in entries.ts`, () => {
      expect(actual[name].values).toEqual(sorted(entries[name].values));
      expect(actual[name].types).toEqual(sorted(entries[name].types));
    });
  }
  it('no entry exports an internal name', () => {
    const all = names.flatMap((name) => [...actual[name].values, ...actual[name].types]);
    expect(all.filter((n) => (internal.values as readonly string[]).includes(n))).toEqual([]);
    expect(all.filter((n) => (internal.types as readonly string[]).includes(n))).toEqual([]);
  });
});

// The built files, when there are any: what tsup bundled is what the sources say. Skipped without a build,
// and with one older than the sources (a stale dist would fail for the wrong reason).
const newest = (dir: string): number =>
  Math.max(
    ...readdirSync(dir).map((name) => {
      const path = join(dir, name);
      const stat = statSync(path);
      return stat.isDirectory() ? newest(path) : stat.mtimeMs;
    }),
  );
const built = join(core, 'dist/index.js');
const fresh = existsSync(built) && statSync(built).mtimeMs >= newest(join(core, 'src'));

describe.skipIf(!fresh)('core public entries, as built in dist', () => {
  for (const name of names) {
    it(`${entries[name].specifier}: Object.keys of dist/${entries[name].dist}.js (ESM) and .cjs`, async () => {
      const esm = (await import(join(core, `dist/${entries[name].dist}.js`))) as object;
      expect(Object.keys(esm).sort()).toEqual(sorted(entries[name].values));
      const cjs = createRequire(import.meta.url)(join(core, `dist/${entries[name].dist}.cjs`)) as object;
      expect(Object.keys(cjs).sort()).toEqual(sorted(entries[name].values));
    });
  }
});
