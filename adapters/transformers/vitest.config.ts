import { unitTestConfig } from '../../vitest.shared.ts';

export default unitTestConfig({
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  // Loads a real ONNX model; generous on a loaded two-core machine.
  testTimeout: 120_000,
});
