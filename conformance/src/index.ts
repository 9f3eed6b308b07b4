export { graphEntity, graphRelation } from './graph-fixtures.js';
export type { GraphStoreHarness } from './graph-store-suite.js';
export { describeGraphStore } from './graph-store-suite.js';
export type {
  HistoryStoreHarness,
  HistoryStoreTestContext,
  RegisterTest,
  ServerOrigin,
  TestBody,
  VectorStoreHarness,
  VectorStoreTestContext,
} from './harness.js';
export { describeHistoryStore } from './history-store-suite.js';
export {
  expectFoundWithoutKeywordText,
  expectKeywordLanguages,
  recordsWithoutKeywordText,
} from './keyword-languages.js';
export type { ProvidedServer } from './provided-server.js';
export { providedServer } from './provided-server.js';
export type {
  ContainerDefinition,
  ProvidedService,
  ServiceDefinition,
  ServiceInfo,
  ServiceResolution,
} from './services.js';
export {
  launcherUnavailableReason,
  launcherUnavailableStatus,
  loadService,
  provideService,
  runLauncher,
  serviceGlobalSetup,
  serviceImage,
  servicesDirectory,
} from './services.js';
export { axisVector } from './support.js';
export { describeVectorStore } from './vector-store-suite.js';
