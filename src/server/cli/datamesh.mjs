#!/usr/bin/env node
// The `datamesh` command. Registers the TypeScript loader (tsx) and hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../../core/polyfill.ts');
const { run } = await import('./index.ts');
await run(process.argv.slice(2));
