export type { ExportLine } from './export-command.js';
export { exportJsonl, exportLine } from './export-command.js';
export type { OutputStream } from './format-output.js';
export type { ImportJsonlOptions, ImportSummary, SkippedLine } from './import-command.js';
export { importJsonl, parseImportLine } from './import-command.js';
export type { CliContext } from './run-cli.js';
export { runCli } from './run-cli.js';
