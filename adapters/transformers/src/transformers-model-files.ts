import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { toAdapterCallError } from '@engram/adapter-kit';
import { AdapterCallError, EngramError, NotFoundError } from '@engram/core';
import {
  modelConfigFiles,
  onnxFiles,
  optionalModelFiles,
  type TransformersDtype,
  type TransformersModelInfo,
  transformersSource,
} from './transformers-models.js';

/** Where a model's files are, as transformers.js loads them (`localModelPath` + model name). */
export interface TransformersModelLocation {
  /** The directory holding model directories (`env.localModelPath`). */
  root: string;
  /** The model's path under `root`, as given to the pipeline. */
  name: string;
}

/** Options of {@link locateTransformersModel} and {@link fetchTransformersModel}. */
export interface TransformersModelFilesOptions {
  /** A local copy of the models: loading is strictly offline from here. */
  modelsDir?: string | undefined;
  /** Where fetched models are kept. Default `~/.cache/engram/models`. */
  cacheDir?: string | undefined;
  /** The hub the model is fetched from once. Default `https://huggingface.co/`. */
  remoteHost?: string | undefined;
  /** Weight format. */
  dtype: TransformersDtype;
  /** Shows a progress bar on stderr when it is a terminal. Default true. */
  progress?: boolean | undefined;
  /** Gives up when the hub does not answer within this many milliseconds. Default 30 s. */
  timeoutMs?: number | undefined;
  /** Cancels the fetch. */
  abortSignal?: AbortSignal | undefined;
}

/** The file recording a verified fetch: what was fetched and each file's sha256. */
const manifestName = 'engram-model.json';

/** The default directory of fetched models. */
export function defaultModelsCacheDir(): string {
  return join(homedir(), '.cache', 'engram', 'models');
}

function requiredFiles(dtype: TransformersDtype): string[] {
  return [...modelConfigFiles, `onnx/${onnxFiles[dtype]}`];
}

function hasFiles(directory: string, dtype: TransformersDtype): boolean {
  return requiredFiles(dtype).every((file) => existsSync(join(directory, file)));
}

/**
 * The model's files on this machine, or `undefined` when they must be fetched first. With
 * `modelsDir`, a missing model is an error: that directory is the only source.
 */
export function locateTransformersModel(
  model: TransformersModelInfo,
  options: TransformersModelFilesOptions,
): TransformersModelLocation | undefined {
  if (options.modelsDir) {
    for (const name of [model.name, model.hubId]) {
      if (hasFiles(join(options.modelsDir, name), options.dtype)) {
        return { root: options.modelsDir, name };
      }
    }
    throw new NotFoundError({
      source: transformersSource,
      message: `ENGRAM_MODELS_DIR (${options.modelsDir}) has no ${model.name}: expected ${requiredFiles(options.dtype).join(', ')} under ${join(options.modelsDir, model.name)}. Run \`pnpm models\` in the Engram repository, copy the model there, or unset ENGRAM_MODELS_DIR to fetch it once from the hub.`,
    });
  }
  const root = options.cacheDir ?? defaultModelsCacheDir();
  const directory = join(root, model.name);
  if (existsSync(join(directory, manifestName)) && hasFiles(directory, options.dtype)) {
    return { root, name: model.name };
  }
  return undefined;
}

function expectedHash(
  model: TransformersModelInfo,
  file: string,
  response: Response,
): string | undefined {
  const pinned = model.sha256?.[file];
  if (pinned) return pinned;
  // The hub names an LFS file's sha256 in this header (on the redirect to its CDN).
  const linked = response.headers.get('x-linked-etag')?.replace(/^(W\/)?"|"$/g, '');
  return linked && /^[0-9a-f]{64}$/.test(linked) ? linked : undefined;
}

function progressBar(label: string, total: number, enabled: boolean) {
  const visible = enabled && process.stderr.isTTY === true;
  let received = 0;
  let shown = -1;
  const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);
  return {
    add(bytes: number) {
      received += bytes;
      if (!visible) return;
      const percent = total > 0 ? Math.floor((received / total) * 100) : 0;
      if (percent === shown) return;
      shown = percent;
      const width = 24;
      const filled = Math.round((percent / 100) * width);
      process.stderr.write(
        `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${megabytes(received)}/${total > 0 ? megabytes(total) : '?'} MB`,
      );
    },
    done() {
      if (visible && shown >= 0) process.stderr.write('\n');
    },
  };
}

async function request(url: string, signal: AbortSignal): Promise<Response> {
  let current = url;
  let linkedEtag: string | null = null;
  for (let redirects = 0; redirects < 5; redirects++) {
    const response = await fetch(current, { redirect: 'manual', signal });
    linkedEtag ??= response.headers.get('x-linked-etag');
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    if (linkedEtag && !response.headers.has('x-linked-etag')) {
      const headers = new Headers(response.headers);
      headers.set('x-linked-etag', linkedEtag);
      return new Response(response.body, { status: response.status, headers });
    }
    return response;
  }
  throw new Error(`too many redirects from ${url}`);
}

async function download(
  model: TransformersModelInfo,
  file: string,
  target: string,
  options: TransformersModelFilesOptions,
): Promise<string | undefined> {
  const host = (options.remoteHost ?? 'https://huggingface.co/').replace(/\/?$/, '/');
  const url = `${host}${model.hubId}/resolve/main/${file}`;
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new Error(`no answer within ${options.timeoutMs ?? 30_000} ms`)),
    options.timeoutMs ?? 30_000,
  );
  const signal = options.abortSignal
    ? AbortSignal.any([options.abortSignal, timeout.signal])
    : timeout.signal;
  let response: Response;
  try {
    response = await request(url, signal);
  } catch (error) {
    clearTimeout(timer);
    throw toAdapterCallError(error, {
      source: transformersSource,
      action: `Fetching ${model.hubId} (${file}) from ${host}`,
    });
  }
  clearTimeout(timer);
  if (response.status === 404 && (optionalModelFiles as readonly string[]).includes(file)) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new AdapterCallError({
      source: transformersSource,
      message: `Fetching ${url} failed (HTTP ${response.status}). Check the model name, or set ENGRAM_MODELS_DIR to a directory holding the model.`,
      isRetryable: response.status === 429 || response.status >= 500,
    });
  }
  const expected = expectedHash(model, file, response);
  const total = Number(response.headers.get('content-length') ?? 0);
  const bar = progressBar(`[engram] ${model.name} ${file}`, total, options.progress ?? true);
  const hash = createHash('sha256');
  await mkdir(dirname(target), { recursive: true });
  try {
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          bar.add(chunk.length);
          callback(null, chunk);
        },
      }),
      createWriteStream(target),
      { signal },
    );
  } catch (error) {
    throw toAdapterCallError(error, {
      source: transformersSource,
      action: `Fetching ${model.hubId} (${file})`,
    });
  } finally {
    bar.done();
  }
  const actual = hash.digest('hex');
  if (expected && actual !== expected) {
    throw new EngramError({
      source: transformersSource,
      message: `${model.hubId} ${file} has sha256 ${actual}, expected ${expected}: the download is corrupt or the file changed on the hub. Nothing was kept; try again, or set ENGRAM_MODELS_DIR to a verified copy.`,
    });
  }
  return actual;
}

/**
 * Fetches a model's files from the hub into the cache once, verifying each against its pinned
 * sha256 (or the hub's own), and returns where they are. Files land in a temporary directory
 * that is renamed into place only when every file is verified.
 */
export async function fetchTransformersModel(
  model: TransformersModelInfo,
  options: TransformersModelFilesOptions,
): Promise<TransformersModelLocation> {
  const found = locateTransformersModel(model, options);
  if (found) return found;
  const root = options.cacheDir ?? defaultModelsCacheDir();
  const directory = join(root, model.name);
  const temporary = join(root, `.${model.name}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const hashes: Record<string, string> = {};
    for (const file of [...requiredFiles(options.dtype), ...optionalModelFiles]) {
      const sha256 = await download(model, file, join(temporary, file), options);
      if (sha256) hashes[file] = sha256;
    }
    await writeFile(
      join(temporary, manifestName),
      `${JSON.stringify({ hubId: model.hubId, fetchedAt: new Date().toISOString(), sha256: hashes }, null, 2)}\n`,
    );
    await rm(directory, { recursive: true, force: true });
    await rename(temporary, directory);
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return { root, name: model.name };
}

/** The sha256 of each file a fetch recorded, for checks. */
export function fetchedModelHashes(location: TransformersModelLocation): Record<string, string> {
  const manifest = JSON.parse(
    readFileSync(join(location.root, location.name, manifestName), 'utf8'),
  ) as { sha256?: Record<string, string> };
  return manifest.sha256 ?? {};
}
