import { describeVectorStore, providedServer } from '@engram/conformance';
import { createDatabricksVectorStore } from '../src/index.js';

// DATABRICKS_HOST names the workspace; DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and
// DATABRICKS_CLIENT_SECRET), DATABRICKS_VECTOR_SEARCH_ENDPOINT (a standard endpoint) and
// DATABRICKS_VECTOR_SEARCH_SCHEMA (catalog.schema) come from the environment.
const { url, ...server } = providedServer();

describeVectorStore({
  name: 'databricks',
  create: () => createDatabricksVectorStore({ ...(url ? { host: url } : {}) }),
  timeout: 600_000,
  ...server,
});
