import { existsSync, readdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { assertPositiveInteger, toAdapterCallError } from '@engram/adapter-kit';
import {
  AbortedError,
  EngramError,
  InvalidArgumentError,
  type LLM,
  type LLMGenerateOptions,
  type LLMGenerateResult,
  NotFoundError,
  throwIfAborted,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** The `source` of every error this package throws. */
const source = 'llama-cpp';

/** Options of {@link createLlamaCppLLM}. */
export interface LlamaCppLLMOptions {
  /** Path of a GGUF file. */
  modelPath?: string;
  /**
   * A GGUF path, or the name of a file in `ENGRAM_MODELS_DIR` (with or without `.gguf`, or the
   * start of its name), optionally written `local:<...>`. Used when `modelPath` is not given.
   */
  model?: string;
  /** CPU threads. Default `ENGRAM_LLM_THREADS`, else 1 (the model shares the machine). */
  threads?: number;
  /** Context window in tokens. Default `ENGRAM_LLM_CONTEXT_SIZE`, else 4096. */
  contextSize?: number;
  /** Use a GPU build of llama.cpp when one is installed. Default false. */
  gpu?: boolean;
  /** Upper bound on generated tokens when a call gives none. Default 1024. */
  maxOutputTokens?: number;
  /** Environment read for `ENGRAM_MODELS_DIR` and the settings above. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** An {@link LLM} running in process; `close` frees the model's memory. */
export interface LlamaCppLLM extends LLM {
  /** The GGUF file. */
  readonly modelPath: string;
  /** Loads the model now; the first `generate` does it otherwise. */
  prepare(): Promise<void>;
  /** Frees the model and its context. */
  close(): Promise<void>;
}

type NodeLlamaCpp = typeof import('node-llama-cpp');

interface Loaded {
  module: NodeLlamaCpp;
  llama: import('node-llama-cpp').Llama;
  model: import('node-llama-cpp').LlamaModel;
  context: import('node-llama-cpp').LlamaContext;
  sequence: import('node-llama-cpp').LlamaContextSequence;
}

function ggufFilesIn(directory: string): string[] {
  try {
    return readdirSync(directory).filter((name) => name.toLowerCase().endsWith('.gguf'));
  } catch {
    return [];
  }
}

/**
 * The GGUF file a name stands for: an existing path, else a file of `modelsDir` named exactly,
 * with `.gguf` added, or starting with the name (`SmolLM2-135M-Instruct` finds
 * `SmolLM2-135M-Instruct.Q4_1.gguf`); no name at all (`local`) takes its first GGUF file.
 */
export function resolveGgufPath(name: string, modelsDir: string | undefined): string {
  const bare = name.trim().replace(/^local(:|$)/, '');
  const available = modelsDir ? ggufFilesIn(modelsDir).sort() : [];
  if (!bare && modelsDir && available[0]) return join(modelsDir, available[0]);
  if (!bare) {
    throw new InvalidArgumentError({
      source,
      message:
        'No GGUF model was named: give modelPath, or ENGRAM_LLM=local:<path or file name in ENGRAM_MODELS_DIR>.',
    });
  }
  if (isAbsolute(bare) || bare.includes('/') || existsSync(bare)) {
    const path = resolve(bare);
    if (existsSync(path)) return path;
    throw new NotFoundError({
      source,
      message: `The GGUF file ${path} does not exist. Check the path, or name a file in ENGRAM_MODELS_DIR.`,
    });
  }
  const files = available;
  const wanted = bare.toLowerCase();
  const match =
    files.find((file) => file.toLowerCase() === wanted) ??
    files.find((file) => file.toLowerCase() === `${wanted}.gguf`) ??
    files.find((file) => file.toLowerCase().startsWith(wanted));
  if (modelsDir && match) return join(modelsDir, match);
  throw new NotFoundError({
    source,
    message: modelsDir
      ? `No GGUF file named "${bare}" in ENGRAM_MODELS_DIR (${modelsDir}); it holds ${files.join(', ') || 'no .gguf file'}. Give a path instead, or run \`pnpm models\` in the Engram repository.`
      : `"${bare}" is not a file. Give the GGUF file's path, or set ENGRAM_MODELS_DIR to the directory that holds it.`,
  });
}

function settingNumber(
  value: number | undefined,
  names: { option: string; variable: string },
  env: Record<string, string | undefined>,
  fallback: number,
): number {
  const fromEnv = env[names.variable]?.trim();
  const resolved = value ?? (fromEnv ? Number(fromEnv) : fallback);
  assertPositiveInteger(resolved, value === undefined ? names.variable : names.option, source);
  return resolved;
}

/** Longest string and array a grammar allows when the schema sets no bound. */
const stringBound = 400;
const arrayBound = 24;

/**
 * The schema with bounds on unbounded strings and arrays: a small model may otherwise repeat
 * itself until `maxOutputTokens` cuts the JSON short.
 */
export function boundJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(boundJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const bounded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    bounded[key] =
      key === 'properties' && value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value).map(([name, entry]) => [name, boundJsonSchema(entry)]),
          )
        : boundJsonSchema(value);
  }
  if (bounded.type === 'string' && bounded.enum === undefined && bounded.maxLength === undefined) {
    bounded.maxLength = stringBound;
  }
  if (bounded.type === 'array' && bounded.maxItems === undefined) bounded.maxItems = arrayBound;
  return bounded;
}

type ChatHistory = import('node-llama-cpp').ChatHistoryItem[];

function toChatHistory(messages: LLMGenerateOptions['messages']): ChatHistory {
  const history: ChatHistory = messages.map((message) =>
    message.role === 'system'
      ? { type: 'system', text: message.content }
      : message.role === 'user'
        ? { type: 'user', text: message.content }
        : { type: 'model', response: [message.content] },
  );
  history.push({ type: 'model', response: [] });
  return history;
}

/**
 * An Engram {@link LLM} running a GGUF model in process with `node-llama-cpp` (CPU, prebuilt
 * binaries, never a build at run time). A JSON answer's schema is compiled into a grammar, so
 * extraction and reconciliation answers always parse. Calls take turns on one context.
 */
export function createLlamaCppLLM(options: LlamaCppLLMOptions = {}): LlamaCppLLM {
  const env = options.env ?? process.env;
  const modelsDir = env.ENGRAM_MODELS_DIR?.trim() || undefined;
  const modelPath = options.modelPath
    ? resolveGgufPath(options.modelPath, undefined)
    : resolveGgufPath(options.model ?? '', modelsDir);
  const threads = settingNumber(
    options.threads,
    { option: 'threads', variable: 'ENGRAM_LLM_THREADS' },
    env,
    1,
  );
  const contextSize = settingNumber(
    options.contextSize,
    { option: 'contextSize', variable: 'ENGRAM_LLM_CONTEXT_SIZE' },
    env,
    4096,
  );
  const maxOutputTokens = options.maxOutputTokens ?? 1024;
  assertPositiveInteger(maxOutputTokens, 'maxOutputTokens', source);
  const modelId = basename(modelPath).replace(/\.gguf$/i, '');
  const grammars = new Map<string, Promise<import('node-llama-cpp').LlamaGrammar>>();
  let loaded: Promise<Loaded> | undefined;
  let turn: Promise<unknown> = Promise.resolve();

  function load(): Promise<Loaded> {
    loaded ??= (async () => {
      let module: NodeLlamaCpp;
      try {
        module = await import('node-llama-cpp');
      } catch (error) {
        throw new EngramError({
          source,
          message:
            'Could not load node-llama-cpp. Install it with `npm install node-llama-cpp@3.21.1` (its prebuilt binaries come as @node-llama-cpp/<platform> packages).',
          cause: error,
        });
      }
      try {
        const llama = await module.getLlama({
          gpu: options.gpu ? 'auto' : false,
          build: 'never',
          logLevel: module.LlamaLogLevel.error,
        });
        const model = await llama.loadModel({
          modelPath,
          ...(options.gpu ? {} : { gpuLayers: 0 }),
        });
        const context = await model.createContext({ contextSize, threads, sequences: 1 });
        return { module, llama, model, context, sequence: context.getSequence() };
      } catch (error) {
        throw toAdapterCallError(error, {
          source,
          action: `Loading ${modelPath}`,
          isRetryable: false,
        });
      }
    })();
    loaded.catch(() => {
      loaded = undefined;
    });
    return loaded;
  }

  function grammarFor(session: Loaded, schema: Record<string, unknown> | undefined) {
    const key = schema === undefined ? '' : JSON.stringify(schema);
    let grammar = grammars.get(key);
    if (!grammar) {
      grammar =
        schema === undefined
          ? session.llama.getGrammarFor('json')
          : session.llama.createGrammarForJsonSchema(boundJsonSchema(schema) as never);
      grammars.set(key, grammar);
      grammar.catch(() => grammars.delete(key));
    }
    return grammar;
  }

  async function generateOnce(call: LLMGenerateOptions): Promise<LLMGenerateResult> {
    const session = await load();
    const format = call.responseFormat;
    const grammar = format?.type === 'json' ? await grammarFor(session, format.schema) : undefined;
    const { sequence } = session;
    await sequence.clearHistory();
    const before = sequence.tokenMeter.getState();
    const chat = new session.module.LlamaChat({
      contextSequence: sequence,
      autoDisposeSequence: false,
    });
    try {
      const result = await chat.generateResponse(toChatHistory(call.messages), {
        ...(grammar ? { grammar } : {}),
        temperature: call.temperature ?? 0,
        maxTokens: call.maxOutputTokens ?? maxOutputTokens,
        ...(call.abortSignal ? { signal: call.abortSignal, stopOnAbortSignal: false } : {}),
      });
      const after = sequence.tokenMeter.getState();
      const text = result.response;
      const generated: LLMGenerateResult = {
        text,
        usage: {
          inputTokens: after.usedInputTokens - before.usedInputTokens,
          outputTokens: after.usedOutputTokens - before.usedOutputTokens,
        },
      };
      if (grammar) {
        try {
          generated.object = JSON.parse(text);
        } catch {
          // Cut short by maxOutputTokens: Engram's JSON repair gets the raw text.
        }
      }
      return generated;
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  }

  return {
    specificationVersion: 'v1',
    provider: 'llama-cpp',
    modelId,
    modelPath,
    async prepare() {
      await load();
    },
    async generate(call: LLMGenerateOptions): Promise<LLMGenerateResult> {
      throwIfAborted(call.abortSignal, source);
      if (call.tools !== undefined && call.tools.length > 0) {
        throw new UnsupportedFunctionalityError({
          source,
          message: 'Tool calls are not supported by @engram/llama-cpp; ask for JSON instead.',
        });
      }
      const run = turn.then(() => generateOnce(call));
      turn = run.catch(() => undefined);
      try {
        return await run;
      } catch (error) {
        if (call.abortSignal?.aborted) {
          throw new AbortedError({ source, message: 'The generation was aborted.', cause: error });
        }
        throw toAdapterCallError(error, {
          source,
          action: `${modelId} generate`,
          isRetryable: false,
        });
      }
    },
    async close() {
      const session = await loaded?.catch(() => undefined);
      loaded = undefined;
      grammars.clear();
      await session?.context.dispose();
      await session?.model.dispose();
      await session?.llama.dispose();
    },
  };
}
