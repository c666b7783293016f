#!/usr/bin/env node
// The `contextd` command.
import { Command } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { hashPassword } from './domain/access.js';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BusinessAttributeCatalog } from './domain/business-attributes.js';
import { parseExport, parsePurge } from './domain/maintenance.js';
import { exportServices, purgeServices } from './app/maintenance.js';
import { userInfo } from 'node:os';
import { startServer, stopOnSignals } from './server.js';
import { openMigratedPartitionStore, openPartitionStores, StoreOpenError } from './store/open.js';
import { partitionsOf, resolvePartition } from './domain/tenancy.js';
import { catalogConfigFor } from './domain/business-attributes.js';
import type { Config } from './config.js';
import { VERSION } from './package-root.js';


interface ServeFlags {
  config?: string;
  port?: string;
  host?: string;
  databaseUrl?: string;
}

interface PartitionFlags {
  tenant?: string;
  group?: string;
}

/** The partition --tenant / --group select, by the rules of the ContactCenterId / GroupId headers. */
function partitionOf(config: Config, flags: PartitionFlags) {
  if (config.tenants.length === 0 && (flags.tenant !== undefined || flags.group !== undefined)) {
    throw new Error('--tenant / --group: the config has no tenants (single-tenant mode)');
  }
  try {
    return resolvePartition(config.tenants, flags.tenant, flags.group);
  } catch (error) {
    throw new Error(`--tenant / --group: ${(error as Error).message}`);
  }
}

/** The audit log's actor for a command run from the shell. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`contextd: ${message}\n`);
  // 2: what the operator gave cannot work (the config, or a store that cannot be opened); 1: anything else
  process.exit(error instanceof ConfigError || error instanceof StoreOpenError ? 2 : 1);
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
      const partitions = partitionsOf(config.tenants);
      const stores = await openPartitionStores(config, partitions);
      let applied: number[];
      try {
        applied = await stores.migrate();
      } finally {
        await stores.close();
      }
      const tenantNote = config.tenants.length ? ` (and ${partitions.length} tenant partitions)` : '';
      process.stdout.write(applied.length ? `applied migrations: ${applied.join(', ')}${tenantNote}\n` : `schema is up to date${tenantNote}\n`);
    } catch (error) {
      fail(error);
    }
  });

program
  .command('purge')
  .description('delete services started before a date (the five documented operations), in bounded batches')
  .requiredOption('-o, --operation <operation>', 'purge.service.all | .started | .started.anonymous | .completed | .completed.anonymous')
  .requiredOption('-b, --before <date-time>', 'cut-off: services started before it (ISO 8601)')
  .option('-c, --config <file>', 'config file, JSON or YAML (or CONTEXTD_CONFIG)')
  .option('-d, --database-url <url>', 'store (or DATABASE_URL)')
  .option('--tenant <id-or-name>', "the tenant's partition (multi-tenant mode), as in ContactCenterId")
  .option('--group <name>', "a group of the tenant, as in GroupId (default: the tenant's no-group partition)")
  .action(async (flags: ServeFlags & PartitionFlags & { operation: string; before: string }) => {
    try {
      const config = loadConfig({ configFile: flags.config, databaseUrl: flags.databaseUrl });
      const { operation, before } = parsePurge({ operation: flags.operation, limit: flags.before });
      const partition = partitionOf(config, flags);
      const store = await openMigratedPartitionStore(config, partition);
      const purged = await purgeServices(store, operation, before, cliActor(), Date.now);
      await store.close();
      process.stdout.write(`${JSON.stringify({ purged })}\n`);
    } catch (error) {
      fail(error);
    }
  });

program
  .command('export')
  .description('write services as one JSON array (ids, or whole services with --content), streamed')
  .requiredOption('-f, --from <date-time>', 'start of the time range (ISO 8601)')
  .option('-t, --to <date-time>', 'end of the time range (default: now)')
  .option('-e, --events <which>', 'any | started | completed: which event must fall in the range', 'any')
  .option('--content', 'whole services with their states, tasks and extensions, not only ids')
  .option('-s, --state <state>', 'any | active | inactive (with --content)', 'any')
  .option('--out <file>', 'write to a file instead of stdout')
  .option('-c, --config <file>', 'config file, JSON or YAML (or CONTEXTD_CONFIG)')
  .option('-d, --database-url <url>', 'store (or DATABASE_URL)')
  .option('--tenant <id-or-name>', "the tenant's partition (multi-tenant mode), as in ContactCenterId")
  .option('--group <name>', "a group of the tenant, as in GroupId (default: the tenant's no-group partition)")
  .action(async (flags: ServeFlags & PartitionFlags & { from: string; to?: string; events: string; content?: boolean; state: string; out?: string }) => {
    try {
      const config = loadConfig({ configFile: flags.config, databaseUrl: flags.databaseUrl });
      const partition = partitionOf(config, flags);
      const request = parseExport(
        { time_from: flags.from, time_to: flags.to, filter_events: flags.events, export_content: flags.content ? 'true' : 'false', filter_state: flags.state },
        Date.now(),
      );
      const store = await openMigratedPartitionStore(config, partition);
      const out = flags.out ? createWriteStream(flags.out) : process.stdout;
      const catalog = new BusinessAttributeCatalog(catalogConfigFor(config.businessAttributes, partition.tenant));
      await pipeline(Readable.from(exportServices({ store, catalog }, request, cliActor(), Date.now)), out, { end: Boolean(flags.out) });
      if (!flags.out) process.stdout.write('\n');
      await store.close();
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
