// The package's root (package.json, src/, web/): the nearest folder above this module that holds
// contextd's package.json. Found rather than assumed, because this module runs from src/ (tests,
// tsx) and from inside the bundle (dist/cli.js or one of its chunks, npm start and the CLI).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): { root: string; version: string } {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'contextd') return { root: dir, version: pkg.version };
    }
    if (dirname(dir) === dir) throw new Error(`contextd's package.json is not above ${from}`);
  }
}

const found = findRoot(dirname(fileURLToPath(import.meta.url)));

const PACKAGE_ROOT = found.root;
export const VERSION = found.version;

/** A path inside the package, e.g. `web/console/`. */
export function packagePath(relative: string): string {
  return join(PACKAGE_ROOT, relative);
}
