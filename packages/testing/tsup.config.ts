import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

// `@jit-provision/core` and vitest stay external (dependency and peer): the kits must load the very same core
// as the store or adapter under test, not a bundled copy of its error classes.
export default defineConfig(packageConfig());
