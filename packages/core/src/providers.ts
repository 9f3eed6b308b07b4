import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EngramError } from './errors.js';

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
