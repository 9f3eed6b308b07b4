import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** A Markdown table. Cells are written as given; `|` is escaped. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  const lines = [
    `| ${headers.map(escapeCell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** The machine a run happened on, in one line. */
export function machineLine(): string {
  const processors = cpus();
  const model = processors[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const memory = (totalmem() / 1024 ** 3).toFixed(0);
  return `${processors.length} cores (${model}), ${memory} GiB memory, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** The processor model of a `machineLine()`, e.g. `AMD EPYC`, for a table cell. */
export function processorOf(machine: string | undefined): string | undefined {
  return machine ? (/\(([^)]+)\)/.exec(machine)?.[1] ?? machine) : undefined;
}

/** The "run (UTC), load before -> after" cell of a backend row, with its processor when known. */
export function runCell(row: { ranAt: string; load: string; machine?: string }): string {
  const processor = processorOf(row.machine);
  return `${row.ranAt}, ${row.load}${processor ? `, ${processor}` : ''}`;
}

/** One-minute, five-minute and fifteen-minute load averages. */
export function loadLine(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
}

/** The heading lines every section starts with: command, date, machine and load. */
export function runHeader(command: string, loadBefore: string): string {
  return [
    `Command: \`${command}\``,
    '',
    `Run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} on ${machineLine()}; load average (1/5/15 min) ${loadBefore} before, ${loadLine()} after.`,
  ].join('\n');
}

/**
 * Replaces the text between `<!-- bench:<key> -->` and `<!-- /bench:<key> -->` in a Markdown
 * file, or appends the marked section when the file does not have it yet. Running one workload
 * thus updates only its own section.
 */
export function replaceSection(document: string, key: string, body: string): string {
  const start = `<!-- bench:${key} -->`;
  const end = `<!-- /bench:${key} -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from !== -1 && to > from) {
    return document.slice(0, from) + block + document.slice(to + end.length);
  }
  return `${document.trimEnd()}\n\n${block}\n`;
}

/** The text between a section's markers, or undefined when the document has no such section. */
export function readSection(document: string, key: string): string | undefined {
  const start = `<!-- bench:${key} -->`;
  const end = `<!-- /bench:${key} -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  return from !== -1 && to > from ? document.slice(from + start.length, to).trim() : undefined;
}

export function writeSection(path: string, key: string, body: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  writeFileSync(path, replaceSection(current, key, body));
}
