/**
 * The directory `pnpm models` assembles. Tests of the real model skip without it, saying so,
 * except under CI=true, where a missing model is a failure.
 */
export const modelsDir = process.env.ENGRAM_MODELS_DIR?.trim() || undefined;

if (!modelsDir && process.env.CI === 'true') {
  throw new Error(
    'ENGRAM_MODELS_DIR is not set under CI=true: run `pnpm models` and export its last line (.ci/run does).',
  );
}

/** Why the real-model tests are skipped, in their title. */
export const skipNote = modelsDir
  ? ''
  : ' (skipped: ENGRAM_MODELS_DIR is not set; run `pnpm models` and export its last line)';
