#!/usr/bin/env node
// The `contextd` command.
import { Command } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { hashPassword } from './domain/access.js';
import { startServer, stopOnSignals } from './server.js';
import { openStore } from './store/open.js';
import { VERSION } from './version.js';


interface ServeFlags {
  config?: string;
  port?: string;
  host?: string;
  databaseUrl?: string;
}

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`contextd: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}

const program = new Command();
program.name('contextd').description('Context Services REST API server').version(VERSION);

program
  .command('serve')
  .description('start the server (migrates the store first)')
  .option('-c, --config <file>', 'config file, JSON or YAML (or CONTEXTD_CONFIG)')
  .option('-p, --port <port>', 'port (or PORT; default 8080)')
  .option('-H, --host <host>', 'address to listen on (or HOST; default 127.0.0.1)')
  .option('-d, --database-url <url>', 'SQLite path / sqlite:PATH (or DATABASE_URL; default ./data/contextd.db)')
  .action(async (flags: ServeFlags) => {
    try {
      const config = loadConfig({ configFile: flags.config, port: flags.port, host: flags.host, databaseUrl: flags.databaseUrl });
      const server = await startServer(config);
      stopOnSignals(server);
    } catch (error) {
      fail(error);
    }
  });

program
  .command('migrate')
  .description('create or upgrade the store schema, then exit')
  .option('-c, --config <file>', 'config file, JSON or YAML (or CONTEXTD_CONFIG)')
  .option('-d, --database-url <url>', 'SQLite path / sqlite:PATH (or DATABASE_URL)')
  .action(async (flags: ServeFlags) => {
    try {
      const config = loadConfig({ configFile: flags.config, databaseUrl: flags.databaseUrl });
      const store = await openStore(config);
      const applied = await store.migrate();
      await store.close();
      process.stdout.write(applied.length ? `applied migrations: ${applied.join(', ')}\n` : 'schema is up to date\n');
    } catch (error) {
      fail(error);
    }
  });

program
  .command('hash-password')
  .description("print a password hash for the config file's users[].password_hash")
  .argument('<password>')
  .action((password: string) => {
    process.stdout.write(`${hashPassword(password)}\n`);
  });

await program.parseAsync();
