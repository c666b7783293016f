// What the commands say to a person at a terminal: a progress line that rewrites itself on stderr
// (only when stderr is a terminal: a log file gets the summary alone), and a yes/no question.
import { createInterface } from 'node:readline/promises';

export interface Progress {
  /** replaces the line (at most ten times a second) */
  show(text: string): void;
  /** clears the line */
  end(): void;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { show: () => undefined, end: () => undefined };
  let shownAt = 0;
  let shown = false;
  return {
    show(text) {
      const now = performance.now();
      if (now - shownAt < 100) return;
      shownAt = now;
      shown = true;
      stream.write(`\r\x1b[2K${text}`);
    },
    end() {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}

/** Asks on the terminal; true for y or yes. */
export async function confirm(question: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

/** Time since `began` (performance.now()), as a person reads it. */
export function seconds(began: number): string {
  return `${((performance.now() - began) / 1000).toFixed(1)} s`;
}

/** A size as a person reads it. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}
