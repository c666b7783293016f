// Summarises a V8 .cpuprofile (from --cpu-prof, e.g. BENCH_PROFILE): self time by package or file and
// by function, largest first. `node --import tsx bench/profile-summary.ts FILE [N]` prints one.
// Native work shows under the JS function that called it (a SQLite step under the statement's caller,
// a socket write as `writev`); the sampler's attribution there is rough, so confirm a native cost
// with a direct measurement before acting on it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/@scope/name/…` → `@scope/name`; our own files relative to the package. */
function placeOf(url: string): string {
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1];
  if (url === '') return '(native)';
  return url.replace(/^file:\/\/.*?\/(src|dist)\//, '$1/');
}

export function summarizeProfile(file: string, top = 15): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (!node) return;
    // waiting for I/O is not work: shown apart, outside the shares
    if (node.callFrame.functionName === '(idle)') return void (idle += us);
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const place = placeOf(url);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${url ? `${place}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  });
  const table = (title: string, entries: Map<string, number>) => [
    `  ${title}`,
    ...[...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `    ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`),
  ];
  return [`  ${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle`, ...table('by package or file', byPlace), ...table('by function', byFunction)].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${summarizeProfile(process.argv[2], Number(process.argv[3] ?? 25))}\n`);
}
