import { unitTestConfig } from '../../vitest.shared.ts';

// Unit tests only: no server needed. The real-server suite is vitest.conformance.config.ts.
export default unitTestConfig();
