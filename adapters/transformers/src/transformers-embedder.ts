import { assertPositiveInteger, chunk, toAdapterCallError } from '@engram/adapter-kit';
import {
  type Embedder,
  type EmbedOptions,
  type EmbedResult,
  EngramError,
  InvalidArgumentError,
  throwIfAborted,
} from '@engram/core';
import {
  fetchTransformersModel,
  locateTransformersModel,
  type TransformersModelFilesOptions,
  type TransformersModelLocation,
} from './transformers-model-files.js';
import {
  onnxFiles,
  resolveTransformersModel,
  type TransformersDtype,
  type TransformersModelInfo,
  type TransformersPooling,
  transformersSource,
} from './transformers-models.js';
import { countTokens, poolSentenceVectors, type TensorLike } from './transformers-pooling.js';

/** Options of {@link createTransformersEmbedder}. */
export interface TransformersEmbedderOptions {
  /**
   * The model: a short name Engram knows (`all-MiniLM-L6-v2`, `bge-small-en-v1.5`,
   * `multilingual-e5-small`, ...), or a hub id of an ONNX export (`Xenova/<model>`), optionally
   * written `local:<name>`. Default `all-MiniLM-L6-v2` (int8, 384 dimensions, English).
   */
  model?: string;
  /**
   * A directory holding the model (`<dir>/<name>/{config.json,tokenizer.json,...,onnx/*.onnx}`):
   * loading is then strictly offline from it. Default `ENGRAM_MODELS_DIR`.
   */
  modelsDir?: string;
  /** Where a model fetched from the hub is kept. Default `~/.cache/engram/models`. */
  cacheDir?: string;
  /** The hub fetched from once when the model is not local. Default `https://huggingface.co/`. */
  remoteHost?: string;
  /** ONNX Runtime intra-op threads. Default 1 (embedding shares the machine with the rest). */
  threads?: number;
  /** Texts run through the model at once. Default 16. */
  batchSize?: number;
  /** Weight format. Default `q8` (int8, `onnx/model_quantized.onnx`). */
  dtype?: TransformersDtype;
  /** Vector size of a model Engram does not know. */
  dimensions?: number;
  /** Pooling of a model Engram does not know. Default `mean`. */
  pooling?: TransformersPooling;
  /** Prefix put in front of queries; default the known model's (e5: `query: `). */
  queryPrefix?: string;
  /** Prefix put in front of stored texts; default the known model's (e5: `passage: `). */
  documentPrefix?: string;
  /** Shows a progress bar on stderr (terminals only) while a model is fetched. Default true. */
  progress?: boolean;
  /** Environment read for `ENGRAM_MODELS_DIR`. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** An {@link Embedder} that runs in process and can fetch its model before the first call. */
export interface TransformersEmbedder extends Embedder {
  /** The model as resolved: hub id, pooling, prefixes. */
  readonly model: TransformersModelInfo;
  /** Whether the model's files are on this machine already (nothing to fetch). */
  isModelAvailable(): boolean;
  /** Fetches the model if needed and loads it; the first `embed` does it otherwise. */
  prepare(options?: { abortSignal?: AbortSignal }): Promise<void>;
  /** Releases the ONNX session. */
  close(): Promise<void>;
}

type TransformersModule = typeof import('@huggingface/transformers');

interface LoadedModel {
  tokenizer: (
    texts: string[],
    options: { padding: boolean; truncation: boolean },
  ) => { attention_mask: TensorLike } & Record<string, unknown>;
  model: ((inputs: Record<string, unknown>) => Promise<Record<string, TensorLike | undefined>>) & {
    dispose?: () => Promise<unknown>;
  };
}

let transformersModule: Promise<TransformersModule> | undefined;
// transformers.js reads its settings from one global object: loads take turns.
let loadQueue: Promise<unknown> = Promise.resolve();

function importTransformers(): Promise<TransformersModule> {
  transformersModule ??= import('@huggingface/transformers').catch((error: unknown) => {
    transformersModule = undefined;
    throw new EngramError({
      source: transformersSource,
      message:
        "Could not load @huggingface/transformers. Install it with `npm install @huggingface/transformers@4.3.2` (with ONNXRUNTIME_NODE_INSTALL=skip when the machine cannot reach ONNX Runtime's CUDA downloads).",
      cause: error,
    });
  });
  return transformersModule;
}

async function loadModel(
  location: TransformersModelLocation,
  dtype: TransformersDtype,
  threads: number,
): Promise<LoadedModel> {
  const transformers = await importTransformers();
  const load = async () => {
    const { env, AutoModel, AutoTokenizer } = transformers;
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = location.root.endsWith('/') ? location.root : `${location.root}/`;
    env.useBrowserCache = false;
    env.useFSCache = false;
    const common = { local_files_only: true } as const;
    const tokenizer = await AutoTokenizer.from_pretrained(location.name, common);
    const model = await AutoModel.from_pretrained(location.name, {
      ...common,
      dtype,
      device: 'cpu',
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    } as Parameters<typeof AutoModel.from_pretrained>[1]);
    return { tokenizer, model } as unknown as LoadedModel;
  };
  const loaded = loadQueue.then(load, load);
  loadQueue = loaded.catch(() => undefined);
  return loaded;
}

/**
 * An Engram {@link Embedder} that runs a sentence-embedding model in process with
 * `@huggingface/transformers` (ONNX Runtime): mean (or CLS) pooling, vectors of length 1,
 * batches of `batchSize`, one ONNX thread by default. The library loads on the first call. With
 * `ENGRAM_MODELS_DIR` (or `modelsDir`) the model comes from that directory only; otherwise it is
 * fetched once into `~/.cache/engram/models`, its checksums verified, and used offline after.
 */
export function createTransformersEmbedder(
  options: TransformersEmbedderOptions = {},
): TransformersEmbedder {
  const env = options.env ?? process.env;
  const dtype = options.dtype ?? 'q8';
  if (!(dtype in onnxFiles)) {
    throw new InvalidArgumentError({
      source: transformersSource,
      message: `dtype "${dtype}" is not one of ${Object.keys(onnxFiles).join(', ')}.`,
    });
  }
  const threads = options.threads ?? 1;
  const batchSize = options.batchSize ?? 16;
  assertPositiveInteger(threads, 'threads', transformersSource);
  assertPositiveInteger(batchSize, 'batchSize', transformersSource);
  const model = resolveTransformersModel(options.model, {
    dimensions: options.dimensions,
    pooling: options.pooling,
    queryPrefix: options.queryPrefix,
    documentPrefix: options.documentPrefix,
  });
  const modelsDir = options.modelsDir ?? (env.ENGRAM_MODELS_DIR?.trim() || undefined);
  const files: TransformersModelFilesOptions = {
    modelsDir,
    cacheDir: options.cacheDir,
    remoteHost: options.remoteHost,
    dtype,
    progress: options.progress,
  };
  let loaded: Promise<LoadedModel> | undefined;
  let running: Promise<unknown> = Promise.resolve();

  function ready(abortSignal?: AbortSignal): Promise<LoadedModel> {
    loaded ??= (async () => {
      const location =
        locateTransformersModel(model, files) ??
        (await fetchTransformersModel(model, { ...files, abortSignal }));
      return loadModel(location, dtype, threads);
    })();
    loaded.catch(() => {
      loaded = undefined;
    });
    return loaded;
  }

  async function embedBatch(
    session: LoadedModel,
    texts: string[],
  ): Promise<{ embeddings: number[][]; tokens: number }> {
    const inputs = session.tokenizer(texts, { padding: true, truncation: true });
    const outputs = await session.model(inputs);
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? outputs.logits;
    if (hidden?.dims.length !== 3 || hidden.dims[2] !== model.dimensions) {
      throw new EngramError({
        source: transformersSource,
        message: `${model.name} returned token vectors of shape [${hidden?.dims.join(', ') ?? ''}], expected [batch, tokens, ${model.dimensions}]. Give the model's real dimensions.`,
      });
    }
    return {
      embeddings: poolSentenceVectors(hidden, inputs.attention_mask, model.pooling),
      tokens: countTokens(inputs.attention_mask),
    };
  }

  return {
    specificationVersion: 'v1',
    provider: 'transformers',
    modelId: model.name,
    dimensions: model.dimensions,
    maxEmbeddingsPerCall: 2048,
    model,
    isModelAvailable() {
      try {
        return locateTransformersModel(model, files) !== undefined;
      } catch {
        return false;
      }
    },
    async prepare({ abortSignal } = {}) {
      await ready(abortSignal);
    },
    async embed({ values, purpose, abortSignal }: EmbedOptions): Promise<EmbedResult> {
      throwIfAborted(abortSignal, transformersSource);
      if (values.length === 0) return { embeddings: [], usage: { tokens: 0 } };
      const session = await ready(abortSignal);
      const prefix = (purpose === 'query' ? model.queryPrefix : model.documentPrefix) ?? '';
      const texts = values.map((value) => prefix + value);
      // One ONNX run at a time: concurrent runs would only fight over the same threads.
      const run = running.then(async () => {
        const embeddings: number[][] = [];
        let tokens = 0;
        for (const batch of chunk(texts, batchSize)) {
          throwIfAborted(abortSignal, transformersSource);
          const result = await embedBatch(session, batch);
          embeddings.push(...result.embeddings);
          tokens += result.tokens;
        }
        return { embeddings, usage: { tokens } };
      });
      running = run.catch(() => undefined);
      try {
        return await run;
      } catch (error) {
        throw toAdapterCallError(error, {
          source: transformersSource,
          action: `${model.name} embed`,
          isRetryable: false,
        });
      }
    },
    async close() {
      const session = await loaded?.catch(() => undefined);
      loaded = undefined;
      await session?.model.dispose?.();
    },
  };
}
