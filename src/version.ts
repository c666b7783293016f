import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// src/version.ts and dist/version.js are both one level below the package root
export const VERSION: string = (require('../package.json') as { version: string }).version;
