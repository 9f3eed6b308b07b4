export { engramAdapter } from './transformers-adapter.js';
export type {
  TransformersEmbedder,
  TransformersEmbedderOptions,
} from './transformers-embedder.js';
export { createTransformersEmbedder } from './transformers-embedder.js';
export type {
  TransformersModelFilesOptions,
  TransformersModelLocation,
} from './transformers-model-files.js';
export {
  defaultModelsCacheDir,
  fetchTransformersModel,
  locateTransformersModel,
} from './transformers-model-files.js';
export type {
  TransformersDtype,
  TransformersModelInfo,
  TransformersModelOverrides,
  TransformersPooling,
} from './transformers-models.js';
export {
  defaultTransformersModel,
  knownTransformersModels,
  resolveTransformersModel,
} from './transformers-models.js';
