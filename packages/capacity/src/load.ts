import { readFileSync } from 'node:fs';
import type { FiguresFile } from './figures.js';
import type { PriceTable } from './prices.js';

const dataDirectory = new URL('../data/', import.meta.url);

/** The figures file shipped with this package (written by `pnpm bench`). */
export function loadFigures(path?: string): FiguresFile {
  return JSON.parse(
    readFileSync(path ?? new URL('figures.json', dataDirectory), 'utf8'),
  ) as FiguresFile;
}

/** The dated price table shipped with this package. */
export function loadPrices(path?: string): PriceTable {
  return JSON.parse(
    readFileSync(path ?? new URL('prices.json', dataDirectory), 'utf8'),
  ) as PriceTable;
}
