export type {
  AdapterComponents,
  AdapterCreateSettings,
  AdapterDescriptor,
  AdapterKind,
  LoadAdapterOptions,
} from './adapter-descriptor.js';
export {
  adapterDescriptorsOf,
  adapterKinds,
  assertSpecificationVersion,
  defineAdapter,
  loadAdapter,
  specificationVersion,
} from './adapter-descriptor.js';
export type { BM25Options } from './bm25.js';
export { scoreBM25 } from './bm25.js';
export type { MemoryFromEnvironmentOptions } from './create-memory-from-environment.js';
export { createMemoryFromEnvironment } from './create-memory-from-environment.js';
export {
  createPrivateDirectory,
  createPrivateFile,
  defaultDataDirectory,
} from './data-directory.js';
export type { DecideChangesOptions } from './decide-changes.js';
export { conversationQueries, decideChanges } from './decide-changes.js';
export { parseDuration } from './duration.js';
export type { Embedder, EmbedOptions, EmbedResult } from './embedder.js';
export { embedderProperties } from './embedder.js';
export type { EmbedderRecord } from './embedder-record.js';
export {
  assertRecordedEmbedder,
  embedderIdentity,
  embedderRecordFile,
  fileReembedState,
  readEmbedderRecords,
  recordEmbedder,
  recordingEmbedder,
} from './embedder-record.js';
export type {
  EmbedderFromEnvironmentOptions,
  EnvironmentWiringOptions,
  ResolvedMemoryOptions,
} from './environment-components.js';
export {
  addModeFromEnvironment,
  componentsFromEnvironment,
  defaultCollection,
  graphStoreFromEnvironment,
  resolveEmbedderFromEnvironment,
  resolveLLMFromEnvironment,
  resolveRerankerFromEnvironment,
} from './environment-components.js';
export type {
  AdapterCallErrorOptions,
  DimensionMismatchErrorOptions,
  EmbedderMismatchErrorOptions,
  EngramErrorOptions,
  LLMOutputErrorOptions,
} from './errors.js';
export {
  AbortedError,
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  describeError,
  EmbedderMismatchError,
  EngramError,
  InvalidArgumentError,
  LLMOutputError,
  NotFoundError,
  throwIfAborted,
  UnsupportedFunctionalityError,
} from './errors.js';
export {
  checkExpiresAt,
  expiredFilter,
  expiresAtField,
  isExpired,
  unexpiredFilter,
} from './expiry.js';
export type { ExtractFactsOptions } from './extract-facts.js';
export { extractFacts, parseFacts } from './extract-facts.js';
export type {
  FilterExpression,
  FilterInput,
  FilterOperator,
  FilterScalar,
  FilterShorthand,
  FilterShorthandCondition,
} from './filter.js';
export {
  filterOperators,
  filterOperatorsUsed,
  matchesFilter,
  normalizeFilter,
  readField,
  validateFilter,
} from './filter.js';
export type { FusedScore, FuseScoresOptions, ScoredId } from './fuse-scores.js';
export { fuseScores } from './fuse-scores.js';
export type {
  GraphChanges,
  GraphMemoryOptions,
  GraphRelationView,
  RelationItem,
} from './graph-memory.js';
export {
  GraphMemory,
  graphExtractionSchemaName,
  graphInvalidationSchemaName,
  normalizeEntityName,
  normalizeRelationship,
} from './graph-memory.js';
export type {
  GraphEntity,
  GraphRelation,
  GraphStore,
  GraphStoreCapabilities,
  GraphTriple,
} from './graph-store.js';
export type { HashEmbedderOptions } from './hash-embedder.js';
export { createHashEmbedder } from './hash-embedder.js';
export type {
  ArchiveHistoryOptions,
  HistoryArchiveDestination,
  HistoryArchiveManifest,
} from './history-archive.js';
export {
  archiveHistoryTexts,
  historyArchiveFormatVersion,
  historyArchiveName,
  readHistoryArchive,
  readHistoryArchiveManifest,
} from './history-archive.js';
export {
  checkHistoryEventNamespaces,
  checkHistoryNamespace,
} from './history-namespace.js';
export type {
  EraseTextsOptions,
  HistoryDescription,
  HistoryEvent,
  HistoryEventType,
  HistoryStore,
  ListTextsOptions,
} from './history-store.js';
export { createInMemoryGraphStore } from './in-memory-graph-store.js';
export { createInMemoryHistoryStore, eraseSelection } from './in-memory-history-store.js';
export type { InMemoryStore } from './in-memory-vector-store.js';
export { createInMemoryStore, createInMemoryVectorStore } from './in-memory-vector-store.js';
export { parseModelJson } from './json-repair.js';
export { KeyedMutex } from './keyed-mutex.js';
export type {
  JSONSchema,
  LLM,
  LLMGenerateOptions,
  LLMGenerateResult,
  LLMMessage,
  LLMResponseFormat,
  LLMTool,
  LLMToolCall,
  LLMUsage,
} from './llm.js';
export type { GenerateJsonOptions } from './llm-json.js';
export { generateJson } from './llm-json.js';
export { Memory } from './memory.js';
export {
  addModes,
  checkMetadata,
  checkThreshold,
  normalizeMessages,
  thresholdMessage,
} from './memory-input.js';
export type {
  AddMode,
  AddOptions,
  AddResult,
  ByIdOptions,
  DeleteAllOptions,
  DeleteExpiredOptions,
  DeleteExpiredProgress,
  DeleteOptions,
  GraphOptions,
  ImportItem,
  ListMemoriesOptions,
  ListMemoriesResult,
  MemoryChange,
  MemoryItem,
  MemoryOptions,
  PruneHistoryOptions,
  PruneHistoryResult,
  ScopedOptions,
  ScoreContribution,
  ScoreExplanation,
  SearchOptions,
  SearchResult,
  SearchResultItem,
  SearchScores,
  UpdateOptions,
} from './memory-types.js';
export type {
  DuplicatePair,
  MergeDuplicatesOptions,
  MergeDuplicatesResult,
} from './merge-duplicates.js';
export { checkNamespace } from './namespace.js';
export { decodeCursor, encodeCursor } from './pagination.js';
export type {
  ExistingMemory,
  PlanChangesOptions,
  PlanChangesResult,
  PlannedChange,
  ReconcileAction,
} from './plan-changes.js';
export { parseReconcileAnswer, planChanges } from './plan-changes.js';
export type {
  BackupManifest,
  BackupOptions,
  BackupPart,
  BackupProgress,
  BackupTarget,
  RestoreOptions,
  RestoreSummary,
} from './project-backup.js';
export {
  BackupIntegrityError,
  backupFormatVersion,
  createDirectoryBackupTarget,
  readBackupManifest,
} from './project-backup.js';
export type { Message } from './prompts.js';
export {
  defaultExtractionPrompt,
  defaultReconcilePrompt,
  defaultSingleCallPrompt,
  extractionSchemaName,
  reconcileSchemaName,
  singleCallSchemaName,
} from './prompts.js';
export type { Environment, ImportModule } from './providers.js';
export { loadAdapterPackage } from './providers.js';
export type {
  BuiltInRedactionType,
  RedactedText,
  RedactionDetector,
  RedactionOptions,
  RedactionSpan,
  Redactor,
} from './redaction.js';
export {
  builtInRedactionDetectors,
  createRedactor,
  isValidIban,
  passesLuhn,
  redactionFromEnvironment,
} from './redaction.js';
export type {
  ReembedCheckpoint,
  ReembedMode,
  ReembedOptions,
  ReembedPhase,
  ReembedProgress,
  ReembedResult,
  ReembedState,
} from './reembed-memories.js';
export { createInMemoryReembedState, stagingCollection } from './reembed-memories.js';
export type { Reranker, RerankOptions, RerankResult, RerankUsage } from './reranker.js';
export type { RewriteQueryOption } from './rewrite-query.js';
export type { Scope, ScopeField } from './scope.js';
export {
  matchesScope,
  maxScopeIdLength,
  normalizeScope,
  scopeFields,
  scopeKey,
  scopeOf,
} from './scope.js';
export type {
  LeaseLockBackend,
  LeaseScopeLockOptions,
  ScopeLock,
  ScopeLockOptions,
} from './scope-lock.js';
export { createLeaseScopeLock, scopeLockKey, sortedLockKeys } from './scope-lock.js';
export type { PlacedEntry, ResolvedSearchContext, SearchContext } from './search-context.js';
export {
  adjacentRecords,
  defaultSearchContext,
  maxScopeReadForContext,
  neighboursInWriteOrder,
  placeNeighbours,
} from './search-context.js';
export {
  defaultKeywordWeight,
  defaultSearchThreshold,
  keywordWeights,
  searchThresholds,
} from './search-threshold.js';
export { cosineSimilarity } from './similarity.js';
export type { UnsafeCharacter } from './text.js';
export {
  describeCodePoint,
  findUnsafeCharacter,
  isControlCharacter,
  keywordText,
  keywordTokens,
  keywordWords,
  normalizeText,
  stem,
  textHash,
  tokenize,
  unsafeCharacterMessage,
} from './text.js';
export { timeOrderedId } from './time-ordered-id.js';
export type { OperationUsage } from './usage-meter.js';
export type * from './vector-store.js';
