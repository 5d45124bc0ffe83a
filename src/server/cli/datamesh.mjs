#!/usr/bin/env node
// The development entry of the `datamesh` command: registers the TypeScript loader (tsx, a
// devDependency) and runs the sources. The installed command is dist/src/server/cli/bin.js.
import { register } from 'tsx/esm/api';

register();
await import('./bin.ts');
