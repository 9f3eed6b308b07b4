import { readFile } from 'node:fs/promises';
import type { FilterInput, ImportItem, JsonValue, Memory, SearchResultItem } from '@engram/core';

/** The user the sample memories belong to. */
export const demoUserId = 'demo-maya';

/** One search the demo runs. */
export interface DemoSearch {
  /** What is asked. */
  query: string;
  /** Optional metadata filter, to show filtering. */
  filters?: FilterInput;
}

/** The searches the demo runs over the sample memories. */
export const demoSearches: DemoSearch[] = [
  { query: 'What should I cook for dinner? Is she vegetarian or allergic to anything?' },
  { query: 'When is the Japan trip, and where will they stay?' },
  { query: 'Where does she work, and as what?' },
  { query: 'Who are her brother, mother and partner?', filters: { topic: 'family' } },
];

/** What the demo found for one search. */
export interface DemoSearchResult extends DemoSearch {
  /** The best matches, best first. */
  results: SearchResultItem[];
}

/** The sample memories that ship with the package (`data/demo-memories.jsonl`). */
export async function loadDemoMemories(): Promise<ImportItem[]> {
  const text = await readFile(new URL('../data/demo-memories.jsonl', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      const parsed = JSON.parse(line) as { text: string; metadata?: Record<string, JsonValue> };
      return {
        userId: demoUserId,
        text: parsed.text,
        ...(parsed.metadata ? { metadata: parsed.metadata } : {}),
      };
    });
}

/** Loads the sample memories (replacing an earlier demo run's) and runs the demo searches. */
export async function runDemo(
  memory: Memory,
  { limit = 3 }: { limit?: number } = {},
): Promise<{ loaded: number; searches: DemoSearchResult[] }> {
  const items = await loadDemoMemories();
  await memory.reset({ userId: demoUserId });
  const { results } = await memory.import(items);
  const searches: DemoSearchResult[] = [];
  for (const search of demoSearches) {
    const found = await memory.search(search.query, {
      userId: demoUserId,
      limit,
      ...(search.filters ? { filters: search.filters } : {}),
    });
    searches.push({ ...search, results: found.results });
  }
  return { loaded: results.length, searches };
}

/** The demo's results, for reading in a terminal. */
export function formatDemo(
  outcome: { loaded: number; searches: DemoSearchResult[] },
  where: { dataDir: string; temporary: boolean },
): string {
  const lines = [
    `Loaded ${outcome.loaded} memories about Maya (user "${demoUserId}") into ${
      where.temporary ? 'a temporary SQLite store' : where.dataDir
    }.`,
    'Search runs offline: hashed-text vectors fused with keyword (BM25) relevance, no LLM, no key.',
    '',
  ];
  for (const search of outcome.searches) {
    const filter = search.filters ? `   filter ${JSON.stringify(search.filters)}` : '';
    lines.push(`> ${search.query}${filter}`);
    if (search.results.length === 0) lines.push('    (no matches)');
    for (const result of search.results) {
      const topic =
        result.metadata.topic === undefined ? '' : `  [${String(result.metadata.topic)}]`;
      lines.push(`    ${result.score.toFixed(2)}  ${result.memory}${topic}`);
    }
    lines.push('');
  }
  lines.push(
    where.temporary
      ? 'The temporary store was deleted. Keep the data with --data-dir <dir>, or try:'
      : `The memories stay in ${where.dataDir}. Try:`,
  );
  const dataDirFlag = where.temporary ? '' : ` --data-dir ${JSON.stringify(where.dataDir)}`;
  lines.push(`  engram${dataDirFlag} add "I moved to Utrecht last month" --user you`);
  lines.push(`  engram${dataDirFlag} search "where do I live?" --user you`);
  return `${lines.join('\n')}\n`;
}
