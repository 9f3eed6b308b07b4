/** What every workload gets from the command line. */
export interface BenchContext {
  /** Tiny sizes that finish in seconds: keeps the programs working in CI. */
  smoke: boolean;
  /** Sizes from `--size`, when given. */
  sizes: number[] | undefined;
  /** Query count from `--queries`, when given. */
  queries: number | undefined;
  /** `--ingest-only`: the scale workload times its ingest and skips the searches. */
  ingestOnly?: boolean;
  /** The command line as a user would type it, for the report. */
  command: string;
  /** Vector length from `--dimensions`, for the workloads that take one. */
  dimensions?: number;
  /** Backend names from `--backends`, for the backends workload. */
  backends?: string[];
  /** The store the service workload's server runs on (`--backend`; default sqlite). */
  serviceBackend?: string;
  /** Leave servers started for the run running (`--keep-servers`). */
  keepServers?: boolean;
  /** Where results go (null: print only). */
  documentPath: string | null;
  /** The repository root. */
  root: string;
  log: (message: string) => void;
}

/** A workload's report: the Markdown that goes into its section of docs/benchmarks.md. */
export interface WorkloadReport {
  key: string;
  markdown: string;
}
