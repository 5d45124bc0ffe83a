#!/usr/bin/env node
// The `datamesh` command as installed: compiled JavaScript run by plain node, so signals reach the
// server directly. (src/server/cli/datamesh.mjs is the development entry that runs these sources
// through tsx.) The polyfill is evaluated before anything that could load libp2p.
import '../../core/polyfill.ts';
import { run } from './index.ts';

await run(process.argv.slice(2));
