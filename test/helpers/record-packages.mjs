// Loaded with `node --import` (through NODE_OPTIONS) by test/e2e/lazy-loading.test.ts: records the name of every
// package under node_modules that the process (and its worker threads) resolves through the ESM loader, one per
// line, in the file named by PORTIER_TEST_PACKAGES_FILE.
import { register } from 'node:module';

register('./record-packages-hooks.mjs', import.meta.url, { data: { file: process.env.PORTIER_TEST_PACKAGES_FILE } });
