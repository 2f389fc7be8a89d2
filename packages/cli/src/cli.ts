#!/usr/bin/env node
/** The `jit-provision` bin. */
import { processIo } from './io';
import { run } from './program';

run(process.argv.slice(2), processIo()).then((code) => {
  // Exit rather than wait for the event loop: a config's own pool or dispatcher would keep the process
  // alive. An empty write calls back once everything written before it is out.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
});
