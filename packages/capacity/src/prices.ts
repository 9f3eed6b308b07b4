/** Price of a model per million tokens. */
export interface ModelPrice {
  /** Input (prompt) tokens, per million. */
  inputPerMillion: number;
  /** Output (completion) tokens, per million; embedders have none. */
  outputPerMillion?: number;
}

/** Price of compute and disk on one cloud. */
export interface ComputePrice {
  /** The instance family the rate is taken from. */
  instance: string;
  /** One vCPU for one hour, on demand. */
  vcpuHour: number;
  /** RAM that comes with each vCPU of that family, GiB. */
  gibRamIncludedPerVcpu: number;
  /** One GiB of block storage for a month. */
  diskGibMonth: number;
  /** The disk type the rate is taken from. */
  disk: string;
}

/** A dated, overridable price table (data/prices.json in this package). */
export interface PriceTable {
  /** When the prices were taken (`YYYY-MM` or `YYYY-MM-DD`). */
  asOf: string;
  /** Currency of every price. */
  currency: string;
  /** Where the prices come from and how far to trust them. */
  note: string;
  /** Model prices by provider name (`openai:gpt-4.1-mini`), plus `local`, `hash`, `none`. */
  models: Record<string, ModelPrice>;
  /** Compute prices by cloud (`aws`, `gcp`, `azure`). */
  compute: Record<string, ComputePrice>;
}

/** A partial table whose entries replace the matching entries of another. */
export type PriceOverrides = Partial<Omit<PriceTable, 'models' | 'compute'>> & {
  models?: Record<string, ModelPrice>;
  compute?: Record<string, ComputePrice>;
};

/** The table with the overrides' entries merged over it. */
export function mergePrices(table: PriceTable, overrides: PriceOverrides | undefined): PriceTable {
  if (!overrides) return table;
  return {
    ...table,
    ...overrides,
    models: { ...table.models, ...overrides.models },
    compute: { ...table.compute, ...overrides.compute },
  };
}

/**
 * The price of a model name as the CLI and server take it (`openai:gpt-4.1-mini`,
 * `local:all-MiniLM-L6-v2`, `hash`, `none`): an exact entry, else the provider's `local`,
 * `hash` or `none` entry; undefined when the table does not know it.
 */
export function modelPrice(table: PriceTable, name: string): ModelPrice | undefined {
  const exact = table.models[name];
  if (exact) return exact;
  const provider = name.split(':')[0]!;
  if (provider === 'local' || provider === 'llama-cpp' || provider === 'transformers') {
    return table.models.local;
  }
  return table.models[provider];
}
