import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

export default defineConfig({
  ...packageConfig({
    index: 'src/index.ts',
    adapter: 'src/adapter/index.ts',
    admin: 'src/admin/index.ts',
    kratos: 'src/kratos/index.ts',
    backchannel: 'src/backchannel/index.ts',
    dev: 'src/dev/index.ts',
  }),
  // No `testing` entry: `@jit-provision/core/testing` is written by scripts/testing-shim.mjs after the build.
  // Subpath entries share chunks with the root entry instead of bundling their own copy of core: within one
  // module system (ESM or CJS) `@jit-provision/core/adapter` and `@jit-provision/core` then load the very same
  // error classes and provisioner. Across module systems the error brand (errors.ts) does the recognising.
  splitting: true,
  // `import.meta.url` in the CJS build: telemetry.ts loads the optional `@opentelemetry/api` with createRequire.
  shims: true,
});
