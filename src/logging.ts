// The server's logger: pino's JSON lines for machines, or pino-pretty's coloured lines with local
// times when a person reads the terminal. pino-pretty is loaded only when used, and writes in the
// main thread (no worker transport: the bundle has no files to start one from).
import type { FastifyServerOptions } from 'fastify';

export type LogFormat = 'auto' | 'pretty' | 'json';

/** pretty on a terminal (auto), or as asked. */
export function prettyLogs(format: LogFormat, isTerminal = Boolean(process.stdout.isTTY)): boolean {
  return format === 'pretty' || (format === 'auto' && isTerminal);
}

export async function loggerOptions(level: string, format: LogFormat): Promise<FastifyServerOptions['logger']> {
  if (!prettyLogs(format)) return { level };
  const { default: pretty } = await import('pino-pretty');
  return { level, stream: pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) };
}
