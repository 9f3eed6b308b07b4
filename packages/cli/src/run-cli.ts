import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type BackupProgress,
  checkExpiresAt,
  createHashEmbedder,
  createMemoryFromEnvironment,
  createPrivateDirectory,
  defaultDataDirectory,
  describeError,
  EngramError,
  type Environment,
  type FilterInput,
  InvalidArgumentError,
  type Memory,
  type MemoryFromEnvironmentOptions,
  type MemoryItem,
  NotFoundError,
  parseDuration,
  type RelationItem,
  resolveEmbedderFromEnvironment,
  type Scope,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { addServerCommands } from '@engram/server/commands';
import { Command, CommanderError } from 'commander';
import { formatDemo, runDemo } from './demo-command.js';
import { formatDoctorReport, runDoctor } from './doctor-command.js';
import { encryptDataDirectory, formatEncryptOutcome } from './encrypt-command.js';
import { exportJsonl } from './export-command.js';
import {
  escapeForTerminal,
  formatChanges,
  formatHistory,
  formatJson,
  formatMemory,
  formatMemoryList,
  formatRelations,
  formatSearchResults,
  type OutputStream,
} from './format-output.js';
import { importJsonl } from './import-command.js';
import {
  parseInteger,
  parseJsonObject,
  parseThreshold,
  type ScopeFlags,
  scopeFromFlags,
  usageError,
} from './parse-options.js';
import { formatPlan, type PlanFlags, planFromFlags } from './plan-command.js';
import { ProgressBar } from './progress-bar.js';

/** What the CLI reads from and writes to; every field defaults to the real process. */
export interface CliContext {
  /** Results go here. */
  stdout: OutputStream;
  /** Errors, warnings and progress go here. */
  stderr: OutputStream;
  /** Read by `import -`. */
  stdin: NodeJS.ReadableStream;
  /** Environment variables (`ENGRAM_HOME`, `ENGRAM_LLM`, `OPENAI_API_KEY`, ...). */
  env: Environment;
  /**
   * Builds the engine from the environment and the data directory; tests pass one backed by an
   * in-memory store. Default: `createMemoryFromEnvironment`.
   */
  createMemory: (
    env: Environment,
    options: MemoryFromEnvironmentOptions,
  ) => Memory | Promise<Memory>;
}

/** `--expires-at` and `--ttl` as commander hands them over. */
interface ExpiryFlags {
  expiresAt?: string;
  ttl?: string;
}

interface GlobalFlags {
  dataDir?: string;
  json?: boolean;
}

const exitUsage = 2;
const exitFailure = 1;
const maxLimit = 1000;

function packageVersion(): string {
  try {
    const manifest = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
    return (JSON.parse(manifest) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function hasConfiguredLLM(env: Environment): boolean {
  const name = env.ENGRAM_LLM?.trim();
  if (name !== undefined) return name !== '' && name !== 'none';
  return Boolean(env.OPENAI_API_KEY);
}

function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function limitOption(flag = '--limit') {
  return (value: string) => parseInteger(flag, value, 1, maxLimit);
}

function jsonOption(flag: string) {
  return (value: string) => parseJsonObject(flag, value);
}

function filterOption(value: string): FilterInput {
  // The engine validates the filter's shape and reports what is wrong with it.
  return parseJsonObject('--filter', value) as FilterInput;
}

/** `--expires-at <ISO>` or `--ttl <duration>` as the engine's `expiresAt`. */
function expiryFromFlags(
  flags: { expiresAt?: string; ttl?: string },
  now = Date.now(),
): { expiresAt?: string } {
  if (flags.expiresAt !== undefined && flags.ttl !== undefined) {
    usageError('give --expires-at or --ttl, not both.');
  }
  if (flags.ttl !== undefined) {
    return { expiresAt: new Date(now + parseDuration(flags.ttl, '--ttl')).toISOString() };
  }
  if (flags.expiresAt !== undefined) {
    return { expiresAt: new Date(checkExpiresAt(flags.expiresAt, '--expires-at')).toISOString() };
  }
  return {};
}

function addExpiryOptions(command: Command): Command {
  return command
    .option('--expires-at <time>', 'forget it after this ISO-8601 time, e.g. 2030-01-31T12:00:00Z')
    .option('--ttl <duration>', 'forget it after this long, e.g. 30d, 12h, 2s');
}

function addScopeOptions(command: Command): Command {
  return command
    .option('--user <id>', 'user the memories belong to')
    .option('--agent <id>', 'agent (assistant, persona) holding the memories')
    .option('--run <id>', 'one conversation or session');
}

function countOf(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** `user "alice"`, `user "alice" and agent "travel"`, ... */
function describeScope(scope: Scope): string {
  const names = { userId: 'user', agentId: 'agent', runId: 'run' } as const;
  return Object.entries(scope)
    .map(([field, id]) => `${names[field as keyof typeof names]} ${JSON.stringify(id)}`)
    .join(' and ');
}

/** The next line of standard input ('' at its end). */
async function readLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stdin, terminal: false });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
  }
}

function exitCodeOf(error: unknown): number {
  return InvalidArgumentError.isInstance(error) || UnsupportedFunctionalityError.isInstance(error)
    ? exitUsage
    : exitFailure;
}

/**
 * Runs the `engram` command with the given arguments (without `node` and the script path) and
 * resolves with the process exit code. Never throws and never calls `process.exit`.
 */
export async function runCli(argv: string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const context: CliContext = {
    stdout: overrides.stdout ?? process.stdout,
    stderr: overrides.stderr ?? process.stderr,
    stdin: overrides.stdin ?? process.stdin,
    env: overrides.env ?? process.env,
    createMemory: overrides.createMemory ?? createMemoryFromEnvironment,
  };
  const { stdout, stderr, env } = context;
  const json = wantsJson(argv);
  let exitCode = 0;

  const print = (human: () => string, value: unknown) => {
    stdout.write(json ? formatJson(value) : human());
  };
  const width = () => (stdout.isTTY ? stdout.columns : undefined);

  // Adapter packages named by the environment resolve from the CLI's own dependencies first.
  const openMemory = async (dataDir: string, extra: MemoryFromEnvironmentOptions = {}) => {
    createPrivateDirectory(dataDir);
    return context.createMemory(env, {
      dataDir,
      importModule: (specifier) => import(specifier),
      ...extra,
    });
  };

  async function withMemory<T>(command: Command, work: (memory: Memory) => Promise<T>): Promise<T> {
    const { dataDir } = command.optsWithGlobals<GlobalFlags>();
    const memory = await openMemory(resolve(dataDir ?? defaultDataDirectory(env)));
    let failed = false;
    try {
      return await work(memory);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // A failing close must not hide the error that got us here.
      await memory.close().catch((error) => {
        if (!failed) throw error;
      });
    }
  }

  const program = new Command('engram')
    .description('Long-term memory for AI agents, from the terminal.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--data-dir <dir>', 'data directory (default: $ENGRAM_HOME, else ~/.engram)')
    .option('--json', 'print JSON only on stdout (errors as JSON on stderr)')
    .showHelpAfterError(!json)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
      outputError: (text, write) => {
        if (json) {
          const message = text.replace(/^error:\s*/, '').trim();
          write(formatJson({ error: { code: 'usage', message } }));
        } else {
          write(text);
        }
      },
    })
    .addHelpText(
      'after',
      `
Configuration: ENGRAM_HOME (data directory), ENGRAM_EMBEDDER (local, local:<model>, hash,
<provider>:<model>, ...), ENGRAM_MODELS_DIR (local models), ENGRAM_LLM (<provider>:<model>, e.g.
anthropic:claude-sonnet-4-5, local:<gguf>, or none), ENGRAM_RERANKER,
ENGRAM_<ROLE>_API_KEY / _BASE_URL / _OPTIONS, OPENAI_API_KEY. engram doctor checks them.
Without a key, memories are stored as given and search runs offline.`,
    );

  addExpiryOptions(
    addScopeOptions(
      program
        .command('add')
        .description('remember a text (with an LLM configured, extracts and reconciles facts)')
        .argument('<text>', 'what to remember'),
    ),
  )
    .option('--metadata <json>', 'JSON object stored with the memory', jsonOption('--metadata'))
    .option('--no-infer', 'store the text as given, without the LLM')
    .action(
      async (
        text: string,
        flags: ScopeFlags & ExpiryFlags & { metadata?: MemoryItem['metadata']; infer?: boolean },
        command: Command,
      ) => {
        const scope = scopeFromFlags(flags, { required: true });
        const expiry = expiryFromFlags(flags);
        const result = await withMemory(command, (memory) =>
          memory.add(text, {
            ...scope,
            ...expiry,
            ...(flags.metadata ? { metadata: flags.metadata } : {}),
            ...(flags.infer === false ? { infer: false } : {}),
          }),
        );
        if (!json) {
          for (const warning of result.warnings ?? []) {
            stderr.write(`warning: ${escapeForTerminal(warning)}\n`);
          }
        }
        print(
          () =>
            formatChanges(result.results) +
            formatRelations(result.relations?.added, 'Relations added') +
            formatRelations(result.relations?.invalidated, 'Relations invalidated'),
          result,
        );
      },
    );

  addScopeOptions(
    program
      .command('search')
      .description('find the memories that matter for a query')
      .argument('<query>', 'what to look for'),
  )
    .option('--limit <n>', 'number of results (default 10)', limitOption())
    .option('--filter <json>', 'metadata filter, e.g. \'{"topic":"food"}\'', filterOption)
    .option(
      '--threshold <n>',
      'leave out results with a lower vector similarity (from 0 to 1; 0 turns the default cut-off off)',
      parseThreshold,
    )
    .option('--explain', "show each signal's raw value, normalized value, weight and contribution")
    .option(
      '--context <n>',
      'add the n memories written after each of the first 2 results, marked ↳ (off by default; 0 turns it off)',
      (value: string) => parseInteger('--context', value, 0, 10),
    )
    .option(
      '--rewrite-query',
      'first turn the question into a standalone search query with one small LLM call (needs ENGRAM_LLM or OPENAI_API_KEY)',
    )
    .action(
      async (
        query: string,
        flags: ScopeFlags & {
          limit?: number;
          filter?: FilterInput;
          threshold?: number;
          explain?: boolean;
          context?: number;
          rewriteQuery?: boolean;
        },
        command: Command,
      ) => {
        const scope = scopeFromFlags(flags, { required: true });
        if (flags.rewriteQuery && !hasConfiguredLLM(env)) {
          usageError(
            '--rewrite-query needs an LLM: set OPENAI_API_KEY or ENGRAM_LLM (e.g. openai:gpt-4o-mini).',
          );
        }
        const result = await withMemory(command, (memory) =>
          memory.search(query, {
            ...scope,
            ...(flags.limit === undefined ? {} : { limit: flags.limit }),
            ...(flags.filter ? { filters: flags.filter } : {}),
            ...(flags.threshold === undefined ? {} : { threshold: flags.threshold }),
            ...(flags.explain ? { explain: true } : {}),
            ...(flags.context === undefined
              ? {}
              : { context: flags.context === 0 ? false : { after: flags.context } }),
            ...(flags.rewriteQuery ? { rewriteQuery: true } : {}),
          }),
        );
        print(
          () =>
            (result.rewrittenQuery === undefined
              ? ''
              : `Searched for: ${escapeForTerminal(result.rewrittenQuery)}\n`) +
            formatSearchResults(result.results, width(), { explain: flags.explain === true }) +
            formatRelations(result.relations),
          result,
        );
      },
    );

  addScopeOptions(program.command('list').description('list memories of a scope, a page at a time'))
    .option('--limit <n>', 'page size (default 100)', limitOption())
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--filter <json>', 'metadata filter, e.g. \'{"topic":"food"}\'', filterOption)
    .option('--all', 'follow cursors and print every page')
    .action(
      async (
        flags: ScopeFlags & {
          limit?: number;
          cursor?: string;
          filter?: FilterInput;
          all?: boolean;
        },
        command: Command,
      ) => {
        const scope = scopeFromFlags(flags, { required: true });
        const page = await withMemory(command, async (memory) => {
          const results: MemoryItem[] = [];
          let relations: RelationItem[] | undefined;
          let cursor = flags.cursor;
          do {
            const next = await memory.list({
              ...scope,
              ...(flags.limit === undefined ? {} : { limit: flags.limit }),
              ...(flags.filter ? { filters: flags.filter } : {}),
              ...(cursor ? { cursor } : {}),
            });
            results.push(...next.results);
            relations ??= next.relations;
            cursor = next.nextCursor;
          } while (flags.all && cursor);
          return {
            results,
            ...(cursor ? { nextCursor: cursor } : {}),
            ...(relations ? { relations } : {}),
          };
        });
        print(() => {
          let text = formatMemoryList(page.results, width());
          if (page.nextCursor) text += `Next page: --cursor ${page.nextCursor}\n`;
          else if (page.results.length > 0)
            text += `${page.results.length} ${page.results.length === 1 ? 'memory' : 'memories'}.\n`;
          return text + formatRelations(page.relations);
        }, page);
      },
    );

  addScopeOptions(
    program
      .command('get')
      .description('show one memory (with --user/--agent/--run: only if it belongs to them)')
      .argument('<id>', 'memory id'),
  ).action(async (id: string, flags: ScopeFlags, command: Command) => {
    const scope = scopeFromFlags(flags, { required: false });
    const item = await withMemory(command, (memory) => memory.get(id, scope));
    if (!item) throw new NotFoundError({ source: 'cli', message: `No memory with id "${id}".` });
    print(() => formatMemory(item), item);
  });

  addExpiryOptions(
    addScopeOptions(
      program
        .command('update')
        .description("change a memory's text and/or merge metadata, or its expiry")
        .argument('<id>', 'memory id'),
    ),
  )
    .option('--text <text>', 'new text (the memory is re-embedded)')
    .option('--metadata <json>', 'JSON object merged into the metadata', jsonOption('--metadata'))
    .option('--no-expiry', 'never forget it (clears its expiry)')
    .action(
      async (
        id: string,
        flags: ScopeFlags &
          ExpiryFlags & { text?: string; metadata?: MemoryItem['metadata']; expiry?: boolean },
        command: Command,
      ) => {
        const expiry = expiryFromFlags(flags);
        const clearExpiry = flags.expiry === false;
        if (
          flags.text === undefined &&
          flags.metadata === undefined &&
          expiry.expiresAt === undefined &&
          !clearExpiry
        ) {
          usageError(
            'update needs --text <text>, --metadata <json>, --expires-at, --ttl and/or --no-expiry.',
          );
        }
        const scope = scopeFromFlags(flags, { required: false });
        const item = await withMemory(command, (memory) =>
          memory.update(id, {
            ...scope,
            ...expiry,
            ...(clearExpiry ? { expiresAt: null } : {}),
            ...(flags.text === undefined ? {} : { text: flags.text }),
            ...(flags.metadata ? { metadata: flags.metadata } : {}),
          }),
        );
        print(() => `Updated ${escapeForTerminal(item.id)}\n${formatMemory(item)}`, item);
      },
    );

  addScopeOptions(
    program.command('delete').description('delete one memory').argument('<id>', 'memory id'),
  )
    .option('--erase', 'also erase the texts of its history events (the events stay)')
    .action(async (id: string, flags: ScopeFlags & { erase?: boolean }, command: Command) => {
      const scope = scopeFromFlags(flags, { required: false });
      const erase = flags.erase === true;
      const result = await withMemory(command, (memory) => memory.delete(id, { ...scope, erase }));
      print(
        () =>
          `Deleted ${escapeForTerminal(id)}${erase ? ' and erased the texts of its history.' : ''}\n`,
        result,
      );
    });

  addScopeOptions(program.command('delete-all').description('delete every memory of a scope'))
    .option('--erase', "also erase the texts of the scope's history events (the events stay)")
    .action(async (flags: ScopeFlags & { erase?: boolean }, command: Command) => {
      const scope = scopeFromFlags(flags, { required: true });
      const erase = flags.erase === true;
      const result = await withMemory(command, (memory) => memory.deleteAll({ ...scope, erase }));
      print(
        () =>
          `Deleted ${countOf(result.deleted, 'memory', 'memories')}${erase ? ' and erased the texts of their history' : ''}.\n`,
        result,
      );
    });

  addScopeOptions(
    program
      .command('reset')
      .description('forget a scope completely: its memories, their whole history and its graph'),
  )
    .option('--yes', 'do not ask for confirmation')
    .action(async (flags: ScopeFlags & { yes?: boolean }, command: Command) => {
      const scope = scopeFromFlags(flags, { required: true });
      const label = describeScope(scope);
      if (!flags.yes) {
        if ((context.stdin as { isTTY?: boolean }).isTTY !== true) {
          usageError(
            'reset deletes for good and asks for confirmation, but standard input is not a terminal: add --yes to reset without asking.',
          );
        }
        stderr.write(
          `Forget every memory of ${label} and its whole history? This cannot be undone. Type "yes" to confirm: `,
        );
        if (!/^y(es)?$/i.test((await readLine(context.stdin)).trim())) {
          stderr.write('Nothing was reset.\n');
          exitCode = exitFailure;
          return;
        }
      }
      const result = await withMemory(command, (memory) => memory.reset(scope));
      print(
        () =>
          `Reset ${label}: deleted ${countOf(result.deleted, 'memory', 'memories')} and its history.\n`,
        result,
      );
    });

  const historyCommand = addScopeOptions(
    program
      .command('history')
      .description('show every change of one memory; `history prune` erases old texts')
      .argument('<id>', 'memory id')
      .option(
        '--from-archive <location>',
        "also read the history archives in a directory or s3://bucket/prefix (a project's folder of ENGRAM_HISTORY_ARCHIVE_TO): erased texts come back",
      ),
  ).action(async (id: string, flags: ScopeFlags & { fromArchive?: string }, command: Command) => {
    const scope = scopeFromFlags(flags, { required: false });
    let events = await withMemory(command, (memory) => memory.history(id, scope));
    if (flags.fromArchive !== undefined) {
      const { readArchivedHistory } = await import('@engram/server/backup');
      const archived = await readArchivedHistory(flags.fromArchive, env, { memoryId: id });
      const byId = new Map(events.map((event) => [event.id, event]));
      for (const event of archived) byId.set(event.id, event);
      events = [...byId.values()].sort((left, right) =>
        left.createdAt < right.createdAt ? -1 : left.createdAt > right.createdAt ? 1 : 0,
      );
    }
    print(() => formatHistory(events, width()), { results: events });
  });

  historyCommand
    .command('prune')
    .description(
      'erase the texts of history events older than an age (the events stay), once; default $ENGRAM_HISTORY_TEXT_RETENTION',
    )
    .option('--older-than <age>', 'e.g. 90d, 12h, 30m')
    .action(async (flags: { olderThan?: string }, command: Command) => {
      const olderThan = flags.olderThan ?? env.ENGRAM_HISTORY_TEXT_RETENTION?.trim();
      if (!olderThan) {
        usageError(
          'history prune needs an age: --older-than 90d, or set ENGRAM_HISTORY_TEXT_RETENTION.',
        );
      }
      parseDuration(
        olderThan,
        flags.olderThan === undefined ? 'ENGRAM_HISTORY_TEXT_RETENTION' : '--older-than',
      );
      const result = await withMemory(command, (memory) => memory.pruneHistory({ olderThan }));
      print(
        () =>
          `Erased the texts of ${countOf(result.erased, 'history event', 'history events')} older than ${olderThan}.\n`,
        result,
      );
    });

  addScopeOptions(
    program
      .command('import')
      .description(
        'load memories from a JSONL file (one {"text", "userId"?, ...} per line; - reads stdin)',
      )
      .argument('<file>', 'JSONL file, or - for standard input'),
  )
    .option(
      '--infer',
      'run each line through the LLM (extract and reconcile) instead of storing it as is',
    )
    .option('--batch-size <n>', 'lines per batch when storing as is (default 256)', (value) =>
      parseInteger('--batch-size', value, 1, 10_000),
    )
    .action(
      async (
        file: string,
        flags: ScopeFlags & { infer?: boolean; batchSize?: number },
        command: Command,
      ) => {
        const scope: Scope = scopeFromFlags(flags, { required: false });
        if (flags.infer && !hasConfiguredLLM(env)) {
          usageError(
            '--infer needs an LLM: set OPENAI_API_KEY or ENGRAM_LLM (e.g. openai:gpt-4o-mini).',
          );
        }
        const summary = await withMemory(command, (memory) =>
          importJsonl(memory, {
            file,
            scope,
            infer: flags.infer === true,
            batchSize: flags.batchSize ?? 256,
            stderr,
            stdin: context.stdin,
          }),
        );
        const replaced = summary.replaced.length;
        print(
          () =>
            `Imported ${summary.imported} ${summary.imported === 1 ? 'memory' : 'memories'}, skipped ${summary.skipped} ${summary.skipped === 1 ? 'line' : 'lines'}${replaced > 0 ? `; ${replaced} replaced ${replaced === 1 ? 'a memory' : 'memories'} of an earlier line` : ''}.\n`,
          summary,
        );
        if (summary.imported === 0 && summary.skipped > 0) exitCode = exitUsage;
      },
    );

  addScopeOptions(
    program
      .command('export')
      .description(
        'write every memory of a scope (or, with --all, of the project) as JSONL (what import reads)',
      ),
  )
    .option('--output <file>', 'write to this file instead of stdout')
    .option('--all', 'every memory of every scope')
    .action(async (flags: ScopeFlags & { output?: string; all?: boolean }, command: Command) => {
      const given = scopeFromFlags(flags, { required: false });
      if (flags.all && Object.keys(given).length > 0) {
        usageError('--all exports every scope: leave out --user, --agent and --run.');
      }
      const scope = flags.all ? 'all' : scopeFromFlags(flags, { required: true });
      const output = flags.output;
      const count = await withMemory(command, (memory) =>
        exportJsonl(memory, scope, output === undefined ? { stream: stdout } : { file: output }),
      );
      if (output !== undefined) {
        print(() => `Exported ${count} ${count === 1 ? 'memory' : 'memories'} to ${output}.\n`, {
          exported: count,
          output,
        });
      }
    });

  const progressPrinter = (verb: string) => (progress: BackupProgress) => {
    stderr.write(
      `${verb}: ${progress.phase === 'verify' ? 'verified' : progress.phase} ${progress.phase === 'verify' ? `${progress.parts} parts` : `${progress.records} records, ${progress.parts} parts`}\n`,
    );
  };

  program
    .command('backup')
    .description(
      'write a backup of every memory (with vectors), the history and the graph to a directory or s3://bucket/prefix',
    )
    .requiredOption(
      '--to <location>',
      'a directory, or s3://bucket/prefix (ENGRAM_S3_ENDPOINT for MinIO, R2, ...)',
    )
    .action(async (flags: { to: string }, command: Command) => {
      const { openBackupTarget } = await import('@engram/server/backup');
      const target = openBackupTarget(flags.to, env);
      const started = performance.now();
      const manifest = await withMemory(command, (memory) =>
        memory.backup({ target, onProgress: progressPrinter('backup') }),
      );
      const seconds = (performance.now() - started) / 1000;
      print(
        () =>
          `Backed up ${countOf(manifest.counts.memories, 'memory', 'memories')}, ${countOf(manifest.counts.historyEvents, 'history event', 'history events')} and ${countOf(manifest.counts.relations, 'relation', 'relations')} to ${target.location} in ${seconds.toFixed(1)} s.\n`,
        manifest,
      );
    });

  program
    .command('restore')
    .description('restore a backup written by engram backup (checks its checksums and embedder)')
    .requiredOption('--from <location>', 'a directory, or s3://bucket/prefix')
    .option('--into-empty-only', 'refuse unless the store holds no memories yet')
    .action(async (flags: { from: string; intoEmptyOnly?: boolean }, command: Command) => {
      const { openBackupTarget } = await import('@engram/server/backup');
      const source = openBackupTarget(flags.from, env);
      const summary = await withMemory(command, (memory) =>
        memory.restore({
          source,
          ...(flags.intoEmptyOnly ? { intoEmptyOnly: true } : {}),
          onProgress: progressPrinter('restore'),
        }),
      );
      print(
        () =>
          `Restored ${countOf(summary.memories, 'memory', 'memories')}, ${countOf(summary.historyEvents, 'history event', 'history events')} and ${countOf(summary.graph, 'graph entry', 'graph entries')} from ${source.location}.\n`,
        {
          memories: summary.memories,
          historyEvents: summary.historyEvents,
          graph: summary.graph,
          manifest: summary.manifest,
        },
      );
    });

  program
    .command('reembed')
    .description(
      "compute every memory's vector again with another embedder, then use it (resumable: run it again after a crash)",
    )
    .requiredOption(
      '--embedder <name>',
      'the new embedder: local, local:<model>, hash, <provider>:<model> (as ENGRAM_EMBEDDER)',
    )
    .option('--batch-size <n>', 'memories per batch (default 256)', (value) =>
      parseInteger('--batch-size', value, 1, 10_000),
    )
    .action(async (flags: { embedder: string; batchSize?: number }, command: Command) => {
      const { dataDir } = command.optsWithGlobals<GlobalFlags>();
      const directory = resolve(dataDir ?? defaultDataDirectory(env));
      const name = flags.embedder.trim();
      const configured = env.ENGRAM_EMBEDDER?.trim();
      const embedder = await resolveEmbedderFromEnvironment(
        { ...env, ENGRAM_EMBEDDER: name },
        { importModule: (specifier) => import(specifier) },
      );
      const memory = await openMemory(directory, { embedder });
      const progress = new ProgressBar(stderr);
      let said = false;
      const result = await (async () => {
        try {
          return await memory.reembed({
            embedder,
            embedderName: name,
            ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
            onProgress: (step) => {
              if (step.resumed && !said && !json) {
                said = true;
                progress.clear();
                stderr.write(
                  `Resuming the interrupted re-embedding (${step.phase}: ${step.processed} of ${step.total} done).\n`,
                );
              }
              const label = { embed: 'embedded', prune: 'checked', copy: 'copied back' }[
                step.phase
              ];
              progress.draw(
                step.total > 0 ? step.processed / step.total : undefined,
                `${step.processed.toLocaleString('en-US')} of ${step.total.toLocaleString('en-US')} ${label}`,
              );
            },
          });
        } finally {
          progress.clear();
          await memory.close();
        }
      })();
      print(
        () =>
          `Re-embedded ${countOf(result.reembedded, 'memory', 'memories')} with ${result.embedder} (${result.dimensions} dimensions, ${result.mode}); it is the collection's embedder now.\n${configured && configured !== name ? `ENGRAM_EMBEDDER names ${configured}: set it to ${name}.\n` : ''}`,
        result,
      );
    });

  program
    .command('encrypt')
    .description(
      'encrypt the embedded store in place with ENGRAM_ENCRYPTION_KEY (or _FILE), or change its key; stop every process using it first',
    )
    .option(
      '--new-key-file <file>',
      'change the key of encrypted files to the one in this file (ENGRAM_ENCRYPTION_KEY is then the current key)',
    )
    .action((flags: { newKeyFile?: string }, command: Command) => {
      const { dataDir } = command.optsWithGlobals<GlobalFlags>();
      const outcome = encryptDataDirectory({
        dataDir: resolve(dataDir ?? defaultDataDirectory(env)),
        env,
        ...(flags.newKeyFile ? { newKeyFile: flags.newKeyFile } : {}),
      });
      print(() => formatEncryptOutcome(outcome), outcome);
    });

  program
    .command('doctor')
    .description('check the configured LLM, embedder, reranker and stores with one tiny call each')
    .action(async (_flags: unknown, command: Command) => {
      const { dataDir } = command.optsWithGlobals<GlobalFlags>();
      const directory = resolve(dataDir ?? defaultDataDirectory(env));
      createPrivateDirectory(directory);
      const report = await runDoctor({
        env,
        dataDir: directory,
        importModule: (specifier) => import(specifier),
      });
      print(() => formatDoctorReport(report), report);
      if (!report.ok) exitCode = exitFailure;
    });

  program
    .command('plan')
    .description(
      'size a deployment (replicas, workers, store disk and RAM, tokens, cost) from measured figures',
    )
    .option('--memories <n>', 'memories stored, e.g. 1M (or --users with --memories-per-user)')
    .option('--users <n>', 'users (scopes), e.g. 10k')
    .option('--memories-per-user <n>', 'memories per user (default 100)')
    .option('--adds-per-day <n>', 'add calls per day, e.g. 50k (default 0)')
    .option('--searches-per-second <n>', 'searches per second at the busiest time (default 1)')
    .option('--dimensions <n>', 'vector length (default 1536)')
    .option('--backend <name>', 'vector store: sqlite, pgvector, qdrant, ... (default sqlite)')
    .option('--llm <name>', 'LLM by name, or none (default openai:gpt-4.1-mini)')
    .option('--embedder <name>', 'embedder by name (default openai:text-embedding-3-small)')
    .option('--peak-factor <x>', "busiest hour's adds over the day's average (default 3)")
    .option('--cores-per-replica <n>', 'cores of one API replica (default 2)')
    .option('--node-memory <GiB>', 'RAM of the largest store node you would run (default 64)')
    .option('--tokens-per-add <n>', 'LLM tokens per add when your turns are longer than ours')
    .option('--worker-concurrency <n>', 'adds one worker runs at once (default 2)')
    .option('--cloud <name>', 'prices of aws, gcp or azure (default aws)')
    .option('--prices <file>', 'a JSON price table whose entries replace the shipped ones')
    .option('--figures <file>', 'a figures file other than the one shipped (pnpm bench writes it)')
    .action((flags: PlanFlags) => {
      const plan = planFromFlags(flags);
      print(() => `${formatPlan(plan)}\n`, plan);
    });

  program
    .command('demo')
    .description(
      'load a sample conversation into a temporary store and search it (offline, no key)',
    )
    .action(async (_flags: unknown, command: Command) => {
      const globals = command.optsWithGlobals<GlobalFlags>();
      const temporary = globals.dataDir === undefined;
      const dataDir = temporary
        ? await mkdtemp(join(tmpdir(), 'engram-demo-'))
        : resolve(globals.dataDir!);
      try {
        const memory = await openMemory(dataDir, { embedder: createHashEmbedder(), llm: null });
        let outcome: Awaited<ReturnType<typeof runDemo>>;
        try {
          outcome = await runDemo(memory);
        } finally {
          await memory.close();
        }
        print(() => formatDemo(outcome, { dataDir, temporary }), outcome);
      } finally {
        if (temporary) await rm(dataDir, { recursive: true, force: true });
      }
    });

  addServerCommands(program, { stdout, env });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      return error.exitCode === 0 ? 0 : exitUsage;
    }
    const message = describeError(error);
    const code = EngramError.isInstance(error) ? error.code : 'internal';
    if (json) {
      stderr.write(formatJson({ error: { code, message } }));
    } else {
      stderr.write(`error: ${escapeForTerminal(message)}\n`);
      if (env.ENGRAM_DEBUG && error instanceof Error && error.stack)
        stderr.write(`${error.stack}\n`);
    }
    return exitCodeOf(error);
  }
}
