// `npm run build`: type-checks src/ (tsc, no output), then bundles the CLI and the server into
// dist/cli.js with esbuild. One file instead of ~700 modules: Node resolves, reads and links each
// module it imports, and that alone took most of the start-up (see docs/decisions.md, Start-up).
// Left outside the bundle: the native better-sqlite3, and the two plugins that serve files found
// beside their own code (swagger-ui, static). pg is a chunk of its own, loaded only on PostgreSQL.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
execFileSync(process.execPath, [new URL('node_modules/typescript/bin/tsc', root).pathname, '-p', 'tsconfig.build.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
rmSync(new URL('dist', root), { recursive: true, force: true });
await build({
  absWorkingDir: root.pathname,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['better-sqlite3', 'pg-native', '@fastify/swagger-ui', '@fastify/static'],
  // CommonJS dependencies inside an ES module bundle still call require()
  banner: { js: "import { createRequire as __contextdRequire } from 'node:module'; const require = __contextdRequire(import.meta.url);" },
  logLevel: 'warning',
});
