export type {
  ApiKeyIdentity,
  ApiKeyInfo,
  ApiKeyStore,
  CreatedApiKey,
} from './api-keys.js';
export { apiKeyStorePath, openApiKeyStore, projectNamePattern } from './api-keys.js';
export type { AppContext, AppEnv } from './app-context.js';
export type { ServerCommandContext } from './commands.js';
export { addServerCommands } from './commands.js';
export type { ApiErrorCode, ErrorAnswer } from './http-errors.js';
export { ApiError, answerForError } from './http-errors.js';
export type {
  AddJobData,
  AddJobProcessor,
  JobInfo,
  JobQueue,
  JobQueueOptions,
  JobRun,
} from './job-queue.js';
export { createMemoryJobQueue } from './job-queue.js';
export { createRedisJobStatusStore, createSqliteJobStatusStore } from './job-status-store.js';
export type {
  MaintenanceJob,
  MaintenanceJobContext,
  MaintenanceOutcome,
  MaintenancePage,
  MaintenanceProgress,
  RunMaintenanceOptions,
} from './maintenance.js';
export {
  dedupeJob,
  historyRetentionJob,
  maintenanceJobs,
  pagedMaintenanceJob,
  registerMaintenanceJob,
  runMaintenanceJob,
} from './maintenance.js';
export type { MaintenanceRun, MaintenanceRunState } from './maintenance-runs.js';
export { createProjectMcpServer } from './mcp-endpoint.js';
export type { ServerMetrics } from './metrics.js';
export {
  createServerMetrics,
  instrumentEmbedder,
  instrumentLLM,
  instrumentReranker,
} from './metrics.js';
export type { ProjectMemories } from './project-memories.js';
export { createProjectMemories, projectCollection } from './project-memories.js';
export type {
  JobStatusStore,
  QueueDelivery,
  QueueMessage,
  QueueTransport,
  TransportJobQueueOptions,
} from './queue-transport.js';
export { createTransportJobQueue } from './queue-transport.js';
export type { RabbitmqTransportOptions } from './rabbitmq-queue-transport.js';
export { createRabbitmqTransport } from './rabbitmq-queue-transport.js';
export type { RateLimitDecision, RateLimiter } from './rate-limiter.js';
export { createRateLimiter } from './rate-limiter.js';
export type { RedisJobQueueOptions } from './redis-job-queue.js';
export { createRedisJobQueue } from './redis-job-queue.js';
export { reembedJob } from './reembed-job.js';
export { createServerApp } from './server-app.js';
export type {
  ServerConfig,
  ServerConfigFile,
  ServerConfigOverrides,
  StoreConfig,
} from './server-config.js';
export { loadServerConfig, serverConfigFileSchema } from './server-config.js';
export type { RunningServer, RunningWorker } from './server-runtime.js';
export {
  createJobQueue,
  createLogger,
  redactUrl,
  startServer,
  startWorker,
} from './server-runtime.js';
export type { SqsTransportOptions } from './sqs-queue-transport.js';
export { createSqsTransport } from './sqs-queue-transport.js';
