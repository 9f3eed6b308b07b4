import {
  componentsFromEnvironment,
  type EnvironmentWiringOptions,
} from './environment-components.js';
import { Memory } from './memory.js';
import type { MemoryOptions } from './memory-types.js';
import type { Environment } from './providers.js';

/** Options of {@link createMemoryFromEnvironment}: components and tuning, plus where adapters come from. */
export type MemoryFromEnvironmentOptions = MemoryOptions & EnvironmentWiringOptions;

/**
 * A `Memory` configured by environment variables, as the CLI and the server build theirs:
 * `ENGRAM_HOME` (data directory of embedded stores), `ENGRAM_COLLECTION`, `ENGRAM_LLM`,
 * `ENGRAM_EMBEDDER`, `ENGRAM_GRAPH` and `OPENAI_API_KEY`. Adapter names become components
 * through the descriptors their packages export (`engramAdapter`); components given in
 * `options` win over the environment. Loads the adapters, but connects to nothing yet.
 */
export async function createMemoryFromEnvironment(
  env: Environment = process.env,
  options: MemoryFromEnvironmentOptions = {},
): Promise<Memory> {
  return new Memory(await componentsFromEnvironment(env, options));
}
