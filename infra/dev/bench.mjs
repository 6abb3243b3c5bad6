#!/usr/bin/env node
// `npm run bench`: same set-up as `npm start`/`npm test`, then the benchmark suite.
import { prepare, runTsx } from './lib.mjs';

prepare();
runTsx('test/bench/main.ts', process.argv.slice(2));
