import { InvalidArgumentError } from '@engram/core';

/** The `source` of every error this package throws. */
export const transformersSource = 'transformers';

/** How token vectors become one sentence vector. */
export type TransformersPooling = 'mean' | 'cls';

/** Weight formats of the ONNX exports on the hub, by the file each one lives in. */
export const onnxFiles = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  q4: 'model_q4.onnx',
  bnb4: 'model_bnb4.onnx',
  q4f16: 'model_q4f16.onnx',
} as const;

/** A weight format of {@link onnxFiles}: `q8` (int8, the default), `fp32`, `fp16`, ... */
export type TransformersDtype = keyof typeof onnxFiles;

/** What Engram knows about a sentence-embedding model. */
export interface TransformersModelInfo {
  /** The short name used in `local:<name>` and as the directory name of a local copy. */
  name: string;
  /** Repository on the model hub holding an ONNX export, e.g. `Xenova/all-MiniLM-L6-v2`. */
  hubId: string;
  /** Length of the vectors. */
  dimensions: number;
  /** Pooling the model was trained with. */
  pooling: TransformersPooling;
  /** Put in front of every query. */
  queryPrefix?: string;
  /** Put in front of every stored text. */
  documentPrefix?: string;
  /** sha256 of files whose content is known, by path inside the model directory. */
  sha256?: Readonly<Record<string, string>>;
}

/** Files every model directory needs besides its ONNX weights. */
export const modelConfigFiles = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

/** Files fetched when the hub has them, not required. */
export const optionalModelFiles = ['special_tokens_map.json'] as const;

/** The default model: all-MiniLM-L6-v2, int8, 384 dimensions, English. */
export const defaultTransformersModel = 'all-MiniLM-L6-v2';

const bgeQuery = 'Represent this sentence for searching relevant passages: ';

/** Models Engram knows by short name: dimensions, pooling and prefixes. */
export const knownTransformersModels: readonly TransformersModelInfo[] = [
  {
    name: 'all-MiniLM-L6-v2',
    hubId: 'Xenova/all-MiniLM-L6-v2',
    dimensions: 384,
    pooling: 'mean',
    sha256: {
      'onnx/model_quantized.onnx':
        '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6',
    },
  },
  {
    name: 'all-MiniLM-L12-v2',
    hubId: 'Xenova/all-MiniLM-L12-v2',
    dimensions: 384,
    pooling: 'mean',
  },
  {
    name: 'paraphrase-multilingual-MiniLM-L12-v2',
    hubId: 'Xenova/paraphrase-multilingual-MiniLM-L12-v2',
    dimensions: 384,
    pooling: 'mean',
  },
  {
    name: 'bge-small-en-v1.5',
    hubId: 'Xenova/bge-small-en-v1.5',
    dimensions: 384,
    pooling: 'cls',
    queryPrefix: bgeQuery,
  },
  {
    name: 'bge-base-en-v1.5',
    hubId: 'Xenova/bge-base-en-v1.5',
    dimensions: 768,
    pooling: 'cls',
    queryPrefix: bgeQuery,
  },
  {
    name: 'multilingual-e5-small',
    hubId: 'Xenova/multilingual-e5-small',
    dimensions: 384,
    pooling: 'mean',
    queryPrefix: 'query: ',
    documentPrefix: 'passage: ',
  },
  {
    name: 'multilingual-e5-base',
    hubId: 'Xenova/multilingual-e5-base',
    dimensions: 768,
    pooling: 'mean',
    queryPrefix: 'query: ',
    documentPrefix: 'passage: ',
  },
  {
    name: 'e5-small-v2',
    hubId: 'Xenova/e5-small-v2',
    dimensions: 384,
    pooling: 'mean',
    queryPrefix: 'query: ',
    documentPrefix: 'passage: ',
  },
  {
    name: 'nomic-embed-text-v1.5',
    hubId: 'nomic-ai/nomic-embed-text-v1.5',
    dimensions: 768,
    pooling: 'mean',
    queryPrefix: 'search_query: ',
    documentPrefix: 'search_document: ',
  },
];

/** What can be said about a model in code, beside its name. */
export interface TransformersModelOverrides {
  /** Vector length; required for models Engram does not know. */
  dimensions?: number | undefined;
  /** Pooling; default the known model's, else `mean`. */
  pooling?: TransformersPooling | undefined;
  /** Query prefix; default the known model's. */
  queryPrefix?: string | undefined;
  /** Document prefix; default the known model's. */
  documentPrefix?: string | undefined;
}

/**
 * The model named `name`: a short name (`bge-small-en-v1.5`), a hub id (`Xenova/bge-small-en-v1.5`),
 * either with `local:` in front, and optionally `?dimensions=N` behind for models Engram does not know.
 */
export function resolveTransformersModel(
  name: string | undefined,
  overrides: TransformersModelOverrides = {},
): TransformersModelInfo {
  const [bare = '', query] = (name ?? defaultTransformersModel)
    .trim()
    .replace(/^local(:|$)/, '')
    .split('?', 2);
  const id = bare || defaultTransformersModel;
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(id) || id.split('/').some((part) => /^\.+$/.test(part))) {
    throw new InvalidArgumentError({
      source: transformersSource,
      message: `"${id}" is not a model name: use a short name such as ${defaultTransformersModel} or a hub id such as Xenova/bge-small-en-v1.5.`,
    });
  }
  const known = knownTransformersModels.find(
    (model) =>
      model.name.toLowerCase() === id.toLowerCase() ||
      model.hubId.toLowerCase() === id.toLowerCase(),
  );
  const fromName = new URLSearchParams(query ?? '').get('dimensions');
  const dimensions = overrides.dimensions ?? (fromName ? Number(fromName) : known?.dimensions);
  if (dimensions === undefined || !Number.isInteger(dimensions) || dimensions < 1) {
    throw new InvalidArgumentError({
      source: transformersSource,
      message: `The vector size of "${id}" is not known: give it as local:${id}?dimensions=<n> or the dimensions option (the hidden_size in the model's config.json).`,
    });
  }
  const info: TransformersModelInfo = {
    name: known?.name ?? id.split('/').pop()!,
    hubId: known?.hubId ?? (id.includes('/') ? id : `Xenova/${id}`),
    dimensions,
    pooling: overrides.pooling ?? known?.pooling ?? 'mean',
  };
  const queryPrefix = overrides.queryPrefix ?? known?.queryPrefix;
  const documentPrefix = overrides.documentPrefix ?? known?.documentPrefix;
  if (queryPrefix) info.queryPrefix = queryPrefix;
  if (documentPrefix) info.documentPrefix = documentPrefix;
  if (known?.sha256) info.sha256 = known.sha256;
  return info;
}
