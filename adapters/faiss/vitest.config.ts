import { unitTestConfig } from '../../vitest.shared.ts';

// faiss-node's native module is built (or taken from the cache) before any test loads it.
export default unitTestConfig({ globalSetup: ['test/native-setup.ts'] });
