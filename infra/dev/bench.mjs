#!/usr/bin/env node
// `npm run bench`: same set-up as `npm start`/`npm test`, then the benchmark suite.
import { ensureGenerated, ensureInstalled, runTsx } from './lib.mjs';

ensureInstalled();
ensureGenerated();
runTsx('test/bench/main.ts', process.argv.slice(2));
