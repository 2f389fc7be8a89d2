import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

export default defineConfig(
  packageConfig({
    index: 'src/index.ts',
    adapter: 'src/adapter/index.ts',
    testing: 'src/testing/index.ts',
    dev: 'src/dev/index.ts',
  }),
);
