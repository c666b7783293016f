// `npm run build`: type-checks src/ (tsc, no output), then bundles the CLI and the server into
// dist/cli.js with esbuild. One file instead of ~700 modules: Node resolves, reads and links each
// module it imports, and that alone took most of the start-up (see docs/decisions.md, Start-up).
// An import's worker thread (src/app/import-worker.ts) is an entry of its own, dist/import-worker.js.
// Left outside the bundle: the native better-sqlite3, and the two plugins that serve files found
// beside their own code (swagger-ui, static). pg is a chunk of its own, loaded only on PostgreSQL.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// a path, not a URL's pathname: a checkout under a folder with a space in its name still builds
const root = fileURLToPath(new URL('..', import.meta.url));
// contextd/client's types, generated from the OpenAPI document of these sources (not kept in git)
execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/client-types.ts')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', client: 'src/client/index.ts', 'import-worker': 'src/app/import-worker.ts' },
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
  // nats: loaded by Node itself when events.nats is set (its CommonJS exports keep their names that way);
  // protobufjs: @datadog/sketches-js requires it only to (de)serialize sketches, which contextd never does
  external: ['better-sqlite3', 'pg-native', '@fastify/swagger-ui', '@fastify/static', 'nats', 'protobufjs/minimal'],
  // CommonJS dependencies inside an ES module bundle still call require()
  banner: { js: "import { createRequire as __contextdRequire } from 'node:module'; const require = __contextdRequire(import.meta.url);" },
  logLevel: 'warning',
});

// contextd/client's declarations, beside the bundle (package.json "exports")
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.client.json'], { cwd: root, stdio: 'inherit' });
