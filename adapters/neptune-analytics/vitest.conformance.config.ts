import { conformanceTestConfig } from '../../vitest.shared.ts';

export default conformanceTestConfig();
