import type { Logger } from 'pino';

/** Attribute values a span takes. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** Starts a span around `work`; a no-op unless tracing was started. */
export type SpanRunner = <T>(
  name: string,
  attributes: SpanAttributes,
  work: () => Promise<T>,
) => Promise<T>;

/** The span a {@link withChildSpan} work runs in: attributes known only at the end go here. */
export interface SpanHandle {
  /** Adds attributes (token counts, result sizes) to the span. */
  setAttributes(attributes: SpanAttributes): void;
}

const noSpan: SpanHandle = { setAttributes() {} };

interface TracingState {
  enabled: boolean;
  run: <T>(
    name: string,
    attributes: SpanAttributes,
    work: (span: SpanHandle) => Promise<T>,
  ) => Promise<T>;
}

const state: TracingState = {
  enabled: false,
  run: (_name, _attributes, work) => work(noSpan),
};

/** Whether spans are recorded: components are wrapped for child spans only then. */
export function tracingEnabled(): boolean {
  return state.enabled;
}

/** Runs `work` in a span when OpenTelemetry tracing is on. */
export const withSpan: SpanRunner = (name, attributes, work) =>
  state.enabled ? state.run(name, attributes, () => work()) : work();

/**
 * Runs `work` in a child span of the active one (an LLM, embedding, store or graph call), with
 * a handle for attributes known at the end. Costs one branch when tracing is off.
 */
export function withChildSpan<T>(
  name: string,
  attributes: SpanAttributes,
  work: (span: SpanHandle) => Promise<T>,
): Promise<T> {
  return state.enabled ? state.run(name, attributes, work) : work(noSpan);
}

// Variables keep TypeScript (and bundlers) from resolving these optional packages.
const sdkPackage = '@opentelemetry/sdk-node';
const exporterPackage = '@opentelemetry/exporter-trace-otlp-http';
const apiPackage = '@opentelemetry/api';

interface OtelApi {
  trace: {
    getTracer(name: string): {
      startActiveSpan<T>(name: string, work: (span: OtelSpan) => T): T;
    };
  };
  SpanStatusCode: { ERROR: number };
}

interface OtelSpan {
  setAttributes(attributes: SpanAttributes): void;
  setStatus(status: { code: number; message?: string }): void;
  recordException(error: unknown): void;
  end(): void;
}

/** Options of {@link startTracing}. */
export interface StartTracingOptions {
  /**
   * Span processors to use instead of the OTLP/HTTP exporter (e.g. a `SimpleSpanProcessor`
   * over an `InMemorySpanExporter` in tests).
   */
  spanProcessors?: unknown[];
}

/**
 * Starts OpenTelemetry tracing to an OTLP/HTTP endpoint. The SDK is loaded only when tracing is
 * configured; if it cannot be loaded (e.g. pruned from an image), a warning says which packages
 * to install and the server runs without traces.
 */
export async function startTracing(
  endpoint: string,
  logger: Logger,
  options: StartTracingOptions = {},
): Promise<() => Promise<void>> {
  let sdk: { start(): void; shutdown(): Promise<void> };
  let api: OtelApi;
  try {
    const sdkModule = (await import(sdkPackage)) as {
      NodeSDK: new (
        options: Record<string, unknown>,
      ) => { start(): void; shutdown(): Promise<void> };
    };
    api = (await import(apiPackage)) as OtelApi;
    if (options.spanProcessors) {
      sdk = new sdkModule.NodeSDK({
        serviceName: 'engram',
        spanProcessors: options.spanProcessors,
      });
    } else {
      const exporterModule = (await import(exporterPackage)) as {
        OTLPTraceExporter: new (options: Record<string, unknown>) => unknown;
      };
      sdk = new sdkModule.NodeSDK({
        serviceName: 'engram',
        traceExporter: new exporterModule.OTLPTraceExporter({}),
      });
    }
  } catch (error) {
    logger.warn(
      { err: error },
      `OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is off: install ${sdkPackage}, ${exporterPackage} and ${apiPackage} next to @engram/server.`,
    );
    return async () => {};
  }
  sdk.start();
  const tracer = api.trace.getTracer('engram');
  state.run = (name, attributes, work) =>
    tracer.startActiveSpan(name, async (span) => {
      span.setAttributes(attributes);
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error);
        span.setStatus({ code: api.SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  state.enabled = true;
  logger.info({ endpoint }, 'tracing to OTLP');
  return async () => {
    state.enabled = false;
    state.run = (_name, _attributes, work) => work(noSpan);
    await sdk.shutdown().catch(() => {});
  };
}
