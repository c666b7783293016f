#!/usr/bin/env node
// The `contextd` command.
import { Command } from 'commander';
import { ConfigError, describeDatabase, loadConfig, printConfig } from './config.js';
import { hashPassword } from './domain/access.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BusinessAttributeCatalog } from './domain/business-attributes.js';
import { parseExport, parsePurge, type FieldNames } from './domain/maintenance.js';
import { DomainError } from './domain/errors.js';
import { confirm, megabytes, seconds, terminalProgress } from './cli-terminal.js';
import { exportServices, purgeServices } from './app/maintenance.js';
import { importServices } from './app/import.js';
import { foldAll } from './rollup-folder.js';
import { buildScopes } from './app/scope.js';
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

/** A flag's value that cannot work (the message names the flag). */
class UsageError extends Error {}

/** The partition --tenant / --group select, by the rules of the ContactCenterId / GroupId headers. */
function partitionOf(config: Config, flags: PartitionFlags) {
  if (config.tenants.length === 0 && (flags.tenant !== undefined || flags.group !== undefined)) {
    throw new UsageError('--tenant / --group: the config has no tenants (single-tenant mode)');
  }
  try {
    return resolvePartition(config.tenants, flags.tenant, flags.group);
  } catch (error) {
    throw new UsageError(`--tenant / --group: ${(error as Error).message}`);
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
  // 2: what the operator gave cannot work (flags, the config, a store that cannot be opened); 1: anything else
  process.exit(error instanceof ConfigError || error instanceof StoreOpenError || error instanceof UsageError ? 2 : 1);
}

/** The flags of export and purge, by the request fields their checks name (domain/maintenance.ts). */
const FLAG_OF: Record<string, string> = {
  time_from: '--from',
  time_to: '--to',
  filter_events: '--events',
  export_content: '--content',
  'export_content=true': '--content',
  filter_state: '--state',
  limit: '--before',
  operation: '--operation',
};

/** Checks flags with the request's own rules, naming the flags in what it says. */
function checkFlags<T>(parse: (name: FieldNames) => T): T {
  try {
    return parse((field) => FLAG_OF[field] ?? field);
  } catch (error) {
    throw error instanceof DomainError ? new UsageError(error.message) : error;
  }
}

const program = new Command();
program.name('contextd').description('Context Services REST API server').version(VERSION);

/** A command on one partition's store: --config, --database-url, --tenant and --group. */
function partitionCommand(name: string): Command {
  return program
    .command(name)
    .option('-c, --config <file>', 'config file, JSON or YAML (or CONTEXTD_CONFIG)')
    .option('-d, --database-url <url>', 'store (or DATABASE_URL)')
    .option('--tenant <id-or-name>', "the tenant's partition (multi-tenant mode), as in ContactCenterId")
    .option('--group <name>', "a group of the tenant, as in GroupId (default: the tenant's no-group partition)");
}

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

partitionCommand('purge')
  .description('delete services started before a date (the five documented operations), in bounded batches; asks first')
  .requiredOption('-o, --operation <operation>', 'purge.service.all | .started | .started.anonymous | .completed | .completed.anonymous')
  .requiredOption('-b, --before <date-time>', 'cut-off: services started before it (ISO 8601)')
  .option('--dry-run', 'count the services it would delete, and delete nothing')
  .option('-y, --yes', 'delete without asking (needed where standard input is not a terminal)')
  .action(async (flags: ServeFlags & PartitionFlags & { operation: string; before: string; dryRun?: boolean; yes?: boolean }) => {
    try {
      const config = loadConfig({ configFile: flags.config, databaseUrl: flags.databaseUrl });
      const { operation, before } = checkFlags((name) => parsePurge({ operation: flags.operation, limit: flags.before }, name));
      const partition = partitionOf(config, flags);
      const store = await openMigratedPartitionStore(config, partition);
      try {
        const count = await store.countPurgeable(operation, before);
        const which = `(${operation}, started before ${new Date(before).toISOString()})`;
        const what = `${count.toLocaleString('en')} services ${which}`;
        if (flags.dryRun) {
          process.stdout.write(`${JSON.stringify({ would_purge: count })}\n`);
          process.stderr.write(`dry run: ${what} would be purged; nothing was deleted\n`);
          return;
        }
        if (count > 0 && !flags.yes) {
          if (!process.stdin.isTTY) throw new UsageError(`purge would delete ${what}: add --yes to go ahead where no terminal can ask (or --dry-run to count only)`);
          if (!(await confirm(`Purge ${what}? This cannot be undone. [y/N] `))) {
            process.stderr.write('purge cancelled; nothing was deleted\n');
            process.exitCode = 1;
            return;
          }
        }
        const progress = terminalProgress();
        const began = performance.now();
        const purged = await purgeServices(store, operation, before, cliActor(), Date.now, (n) => progress.show(`purged ${n.toLocaleString('en')} of ${count.toLocaleString('en')} services`));
        progress.end();
        process.stdout.write(`${JSON.stringify({ purged })}\n`);
        const reclaim = config.database.kind === 'sqlite' && purged > 0 ? '; the file keeps its size until `contextd vacuum`' : '';
        process.stderr.write(`purged ${purged.toLocaleString('en')} services ${which} in ${seconds(began)}${reclaim}\n`);
      } finally {
        await store.close();
      }
    } catch (error) {
      fail(error);
    }
  });

partitionCommand('export')
  .description('write services as one JSON array (ids, or whole services with --content), streamed')
  .requiredOption('-f, --from <date-time>', 'start of the time range (ISO 8601)')
  .option('-t, --to <date-time>', 'end of the time range (default: now)')
  .option('-e, --events <which>', 'any | started | completed: which event must fall in the range', 'any')
  .option('--content', 'whole services with their states, tasks and extensions, not only ids')
  .option('-s, --state <state>', 'any | active | inactive (with --content)', 'any')
  .option('--out <file>', 'write to a file instead of stdout')
  .action(async (flags: ServeFlags & PartitionFlags & { from: string; to?: string; events: string; content?: boolean; state: string; out?: string }) => {
    try {
      const config = loadConfig({ configFile: flags.config, databaseUrl: flags.databaseUrl });
      const partition = partitionOf(config, flags);
      const request = checkFlags((name) =>
        parseExport(
          { time_from: flags.from, time_to: flags.to, filter_events: flags.events, export_content: flags.content ? 'true' : 'false', filter_state: flags.state },
          Date.now(),
          name,
        ),
      );
      const store = await openMigratedPartitionStore(config, partition);
      try {
        const out = flags.out ? createWriteStream(flags.out) : process.stdout;
        const catalog = new BusinessAttributeCatalog(catalogConfigFor(config.businessAttributes, partition.tenant));
        const progress = terminalProgress();
        const began = performance.now();
        let exported = 0;
        const chunks = exportServices({ store, catalog }, request, cliActor(), Date.now, (n) => {
          exported = n;
          progress.show(`exported ${n.toLocaleString('en')} services`);
        });
        await pipeline(Readable.from(chunks), out, { end: Boolean(flags.out) });
        if (!flags.out) process.stdout.write('\n');
        progress.end();
        process.stderr.write(`exported ${exported.toLocaleString('en')} services (${request.content ? 'whole' : 'ids'}) to ${flags.out ?? 'standard output'} in ${seconds(began)}\n`);
      } finally {
        await store.close();
      }
    } catch (error) {
      fail(error);
    }
  });

partitionCommand('import')
  .description('import whole services from an export (a JSON array, or NDJSON: one service per line), read as a stream; prints the report')
  .argument('<file>', "an export file (`contextd export --content`, or Genesys Context Services' export_content=true); - reads standard input")
  .action(async (file: string, flags: ServeFlags & PartitionFlags) => {
    try {
      const config = loadConfig({ configFile: flags.config, databaseUrl: flags.databaseUrl });
      const partition = partitionOf(config, flags);
      const input = file === '-' ? process.stdin : createReadStream(file);
      // a missing file is a usage error, found before the store opens
      if (file !== '-') await new Promise<void>((resolve, reject) => input.once('open', () => resolve()).once('error', (error: Error) => reject(new UsageError(`${file}: ${error.message}`))));
      const store = await openMigratedPartitionStore(config, partition);
      try {
        const scope = buildScopes({ tenants: config.tenants, storeFor: () => store, businessAttributes: config.businessAttributes, expiration: config.expiration, maxExtensions: config.limits.extensionsPerElement }).get(partition.key)!;
        const progress = terminalProgress();
        const began = performance.now();
        const report = await importServices(scope, input, cliActor(), Date.now, (r) => progress.show(`read ${r.records.toLocaleString('en')} services, imported ${r.imported.toLocaleString('en')}`));
        // the imported services' rollup deltas into the rollup rows now, as a server's fold would
        // after its commits: reports read no long tail of them
        await foldAll(store);
        progress.end();
        process.stdout.write(`${JSON.stringify(report)}\n`);
        const rate = report.records / Math.max((performance.now() - began) / 1000, 0.001);
        process.stderr.write(
          `imported ${report.imported.toLocaleString('en')} of ${report.records.toLocaleString('en')} services from ${file === '-' ? 'standard input' : file} in ${seconds(began)} (${Math.round(rate).toLocaleString('en')}/s): ` +
            `${report.already_imported.toLocaleString('en')} imported before, ${report.remapped.length.toLocaleString('en')} with new ids, ${report.invalid_count.toLocaleString('en')} invalid\n`,
        );
        if (report.invalid_count > 0) process.exitCode = 1;
      } finally {
        await store.close();
      }
    } catch (error) {
      fail(error);
    }
  });

partitionCommand('vacuum')
  .description('give back the room that purged and deleted services left (SQLite: the file shrinks; PostgreSQL: VACUUM (ANALYZE), the room is reused)')
  .action(async (flags: ServeFlags & PartitionFlags) => {
    try {
      const config = loadConfig({ configFile: flags.config, databaseUrl: flags.databaseUrl });
      const store = await openMigratedPartitionStore(config, partitionOf(config, flags));
      try {
        const began = performance.now();
        const { bytesBefore, bytesAfter } = await store.vacuum();
        process.stdout.write(`${JSON.stringify({ bytes_before: bytesBefore, bytes_after: bytesAfter })}\n`);
        process.stderr.write(`vacuumed ${describeDatabase(config.database)}: ${megabytes(bytesBefore)} → ${megabytes(bytesAfter)} in ${seconds(began)}\n`);
      } finally {
        await store.close();
      }
    } catch (error) {
      fail(error);
    }
  });

const configCommand = program.command('config').description('check or show the configuration');

configCommand
  .command('check')
  .description('check a config file as start-up would (keys, types, tenants, users, business attributes); exit 2 naming what is wrong')
  .argument('<file>', 'config file, JSON or YAML')
  .action((file: string) => {
    try {
      const config = loadConfig({ configFile: file }, {});
      const tenants = config.tenants.length > 0 ? `${config.tenants.length} tenants` : 'single-tenant';
      process.stdout.write(`${file}: ok (${describeDatabase(config.database)}, ${tenants}, ${config.users.length} user${config.users.length === 1 ? '' : 's'}, roles ${config.useRole ? 'on' : 'off'})\n`);
    } catch (error) {
      fail(error);
    }
  });

configCommand
  .command('print')
  .description('print the configuration in force (defaults, the file, the environment and the flags applied) as YAML, secrets masked')
  .option('-c, --config <file>', 'config file, JSON or YAML (or CONTEXTD_CONFIG)')
  .option('-p, --port <port>', 'port (or PORT)')
  .option('-H, --host <host>', 'address to listen on (or HOST)')
  .option('-d, --database-url <url>', 'store (or DATABASE_URL)')
  .action((flags: ServeFlags) => {
    try {
      const config = loadConfig({ configFile: flags.config, port: flags.port, host: flags.host, databaseUrl: flags.databaseUrl });
      process.stdout.write(printConfig(config));
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
