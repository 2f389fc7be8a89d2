#!/usr/bin/env node
// Post-build step of core: writes the four dist files of the deprecated `@jit-provision/core/testing` entry as
// plain re-exports of `@jit-provision/testing`. The kits moved to that package, which depends on core; building
// the entry from sources would pull them (and a package cycle) back into core. Runs after tsup because tsup's
// declaration step clears `*.d.ts` in dist. Removed, with the entry, in the next minor version.
import { writeFile } from 'node:fs/promises';

const deprecation = `/**
 * @deprecated \`@jit-provision/core/testing\` moved: import the kits from \`@jit-provision/testing\` (add it
 * as a devDependency). This re-export is removed in the next minor version of \`@jit-provision/core\`.
 *
 * @example
 * \`\`\`ts
 * import { runStoreConformance } from '@jit-provision/testing';
 * \`\`\`
 */
`;
const esm = `${deprecation}export * from '@jit-provision/testing';\n`;
const files = {
  'testing.js': esm,
  'testing.cjs': `${deprecation}module.exports = require('@jit-provision/testing');\n`,
  'testing.d.ts': esm,
  'testing.d.cts': esm,
};
const dist = new URL('../dist/', import.meta.url);
await Promise.all(Object.entries(files).map(([name, text]) => writeFile(new URL(name, dist), text)));
