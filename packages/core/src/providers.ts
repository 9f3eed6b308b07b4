import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Embedder } from './embedder.js';
import { EngramError, InvalidArgumentError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import type { LLM } from './llm.js';

/** Loads an adapter package by name; lets callers resolve packages from their own location. */
export type ImportModule = (specifier: string) => Promise<unknown>;

/** Environment variables, as `process.env` holds them. */
export type Environment = Record<string, string | undefined>;

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(specifier)
  );
}

function exportEntry(exportsField: unknown): string | undefined {
  if (typeof exportsField === 'string') return exportsField;
  if (exportsField == null || typeof exportsField !== 'object') return undefined;
  const root = (exportsField as Record<string, unknown>)['.'] ?? exportsField;
  if (typeof root === 'string') return root;
  if (root == null || typeof root !== 'object') return undefined;
  const conditions = root as Record<string, unknown>;
  const entry = conditions.import ?? conditions.default;
  return typeof entry === 'string' ? entry : exportEntry(entry);
}

/** Finds a package installed for the application (walking up from the working directory). */
function resolveFromWorkingDirectory(specifier: string): string | undefined {
  let directory = process.cwd();
  for (;;) {
    const manifest = join(directory, 'node_modules', specifier, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as {
        exports?: unknown;
        main?: string;
      };
      const entry = exportEntry(parsed.exports) ?? parsed.main ?? 'index.js';
      return pathToFileURL(join(dirname(manifest), entry)).href;
    }
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/**
 * Imports an optional adapter package. Tries the caller's `importModule`, then a plain import
 * from core, then the application's own node_modules; throws an error that says what to install.
 */
export async function loadAdapterPackage(
  specifier: string,
  purpose: string,
  importModule?: ImportModule,
): Promise<Record<string, unknown>> {
  const attempts: ImportModule[] = [
    ...(importModule ? [importModule] : []),
    (name) => import(name),
    async (name) => {
      const url = resolveFromWorkingDirectory(name);
      if (!url)
        throw Object.assign(new Error(`Cannot find ${name}`), { code: 'ERR_MODULE_NOT_FOUND' });
      return import(url);
    },
  ];
  let lastError: unknown;
  for (const attempt of attempts) {
    try {
      return (await attempt(specifier)) as Record<string, unknown>;
    } catch (error) {
      if (!isModuleNotFound(error, specifier)) throw error;
      lastError = error;
    }
  }
  throw new EngramError({
    message: `${purpose} needs the package ${specifier}, which is not installed. Run \`npm install ${specifier}\`, or pass the component explicitly in the Memory options.`,
    cause: lastError,
  });
}

function factory<T>(module: Record<string, unknown>, name: string, specifier: string) {
  const value = module[name];
  if (typeof value !== 'function') {
    throw new EngramError({
      message: `${specifier} does not export ${name}; update it to a version that matches @engram/core.`,
    });
  }
  return value as (...args: unknown[]) => T;
}

/**
 * The LLM named by the environment: `ENGRAM_LLM` (`openai:<model>`, `ollama:<model>`, or `none`),
 * else OpenAI's default small model when `OPENAI_API_KEY` is set, else none.
 */
export async function resolveLLMFromEnvironment(
  env: Environment,
  importModule?: ImportModule,
): Promise<LLM | undefined> {
  const name = env.ENGRAM_LLM?.trim();
  if (name === 'none' || (name === undefined && !env.OPENAI_API_KEY) || name === '') {
    return undefined;
  }
  const module = await loadAdapterPackage(
    '@engram/ai-sdk',
    'ENGRAM_LLM / OPENAI_API_KEY',
    importModule,
  );
  const modelName = name ?? (module.defaultLLMName as string | undefined);
  return factory<LLM>(module, 'createLLMFromName', '@engram/ai-sdk')(modelName, { env });
}

/**
 * The embedder named by the environment: `ENGRAM_EMBEDDER` (`hash`, `hash:<dimensions>`,
 * `openai:<model>`, `ollama:<model>`), else OpenAI's default when `OPENAI_API_KEY` is set, else
 * the offline hash embedder.
 */
export async function resolveEmbedderFromEnvironment(
  env: Environment,
  importModule?: ImportModule,
): Promise<Embedder> {
  const name = env.ENGRAM_EMBEDDER?.trim();
  if (name?.startsWith('hash') || (!name && !env.OPENAI_API_KEY)) {
    const dimensions = name?.includes(':') ? Number(name.split(':')[1]) : undefined;
    if (dimensions !== undefined && !Number.isInteger(dimensions)) {
      throw new InvalidArgumentError({
        message: `ENGRAM_EMBEDDER=${name}: write hash or hash:<dimensions>, e.g. hash:384.`,
      });
    }
    return createHashEmbedder(dimensions === undefined ? {} : { dimensions });
  }
  const module = await loadAdapterPackage(
    '@engram/ai-sdk',
    'ENGRAM_EMBEDDER / OPENAI_API_KEY',
    importModule,
  );
  const modelName = name || (module.defaultEmbedderName as string | undefined);
  return factory<Embedder>(module, 'createEmbedderFromName', '@engram/ai-sdk')(modelName, { env });
}
