// The README's curl walkthroughs, run as written with bash against a real server, twice: the second
// run meets a store that already has data, and still works (the ids are captured, not assumed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The first ```sh block after a heading. */
function block(heading: string): string {
  const from = README.indexOf(`## ${heading}`);
  assert.ok(from >= 0, `README has no "## ${heading}"`);
  const start = README.indexOf('```sh\n', from) + 6;
  return README.slice(start, README.indexOf('```\n', start));
}

let dir: string;
let server: ServerProcess;
before(async () => {
  dir = tempDir();
  server = await startServerProcess([], { DATABASE_URL: join(dir, 'readme.db') });
});
after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
});

function runWalkthroughs(): { output: string; service: string } {
  const script = [block('A journey, with curl'), block('A customer, with curl'), 'echo "SERVICE=$SERVICE"']
    .join('\n')
    .replace('B=http://127.0.0.1:8080/genesys/1/cs', `B=${server.base}/genesys/1/cs`);
  const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return { output: run.stdout, service: /SERVICE=(\d+)/.exec(run.stdout)![1] };
}

test('the journey and customer walkthroughs run as written, on an empty store and again on one with data', () => {
  const services: string[] = [];
  for (const round of [1, 2]) {
    const { output, service } = runWalkthroughs();
    services.push(service);
    // -w '%{http_code}\n' follows the previous answer's body (curl adds no newline after a body)
    const statuses = output.split('\n').flatMap((line) => /(?:^|[\]}])(\d{3})$/.exec(line)?.[1] ?? []);
    assert.deepEqual(statuses, ['204', '204', '204', '204', '204'], `round ${round}: every end and association answered 204: ${output}`);
    const errors = output.match(/"exception":"[^"]+"/g) ?? [];
    const expected = ['NotFoundException', ...(round === 2 ? ['ValidationException', 'ValidationException'] : [])];
    assert.deepEqual(errors.map((e) => e.replace(/.*\.(\w+)"$/, '$1')), expected, `round ${round}: ${output}`);
    assert.match(output, /"FirstName":"Ada"/, 'the caller was identified by the phone number');
  }
  assert.notEqual(services[0], services[1], 'the second run worked on its own service');
});

test('the search walkthrough runs as written, on an empty store and again on one with data', () => {
  const script = block('Finding journeys, with curl').replace('B=http://127.0.0.1:8080/genesys/1/cs', `B=${server.base}/genesys/1/cs`);
  for (const round of [1, 2]) {
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.equal(lines[0], round === 1 ? '201' : '400', `round ${round}: the schema is made once: ${run.stdout}`);
    const order = /ORDER=(\d+)/.exec(run.stdout)![1];
    const [byOrder, byTotal] = lines.slice(1, 3).map((line) => (JSON.parse(line) as { services: { service_id: number; Order?: unknown }[] }).services);
    assert.equal(byOrder.length, round, `round ${round}: each run's order 4711 is found`);
    assert.equal(String(byOrder[0].service_id), order, 'newest first');
    assert.deepEqual(byOrder[0].Order, { order_id: 4711, total: 129.9, channel: 'web' });
    assert.ok(byTotal.some((s) => String(s.service_id) === order));
    assert.match(run.stdout, /channel of extension Order is not searchable/);
  }
});
