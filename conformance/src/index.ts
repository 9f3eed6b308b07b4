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
export type {
  ContainerDefinition,
  ProvidedService,
  ServiceDefinition,
  ServiceInfo,
  ServiceResolution,
} from './services.js';
export {
  loadService,
  provideService,
  runLauncher,
  serviceGlobalSetup,
  serviceImage,
  servicesDirectory,
} from './services.js';
export { describeVectorStore } from './vector-store-suite.js';
