import type { Logger } from 'pino';

/** Starts a span around `work`; a no-op unless tracing was started. */
export type SpanRunner = <T>(
  name: string,
  attributes: Record<string, string>,
  work: () => Promise<T>,
) => Promise<T>;

interface TracingState {
  run: SpanRunner;
}

const state: TracingState = {
  run: (_name, _attributes, work) => work(),
};

/** Runs `work` in a span when OpenTelemetry tracing is on. */
export const withSpan: SpanRunner = (name, attributes, work) => state.run(name, attributes, work);

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
  setAttributes(attributes: Record<string, string>): void;
  setStatus(status: { code: number; message?: string }): void;
  recordException(error: unknown): void;
  end(): void;
}

/**
 * Starts OpenTelemetry tracing to an OTLP/HTTP endpoint. The SDK is loaded only when tracing is
 * configured; if it cannot be loaded (e.g. pruned from an image), a warning says which packages
 * to install and the server runs without traces.
 */
export async function startTracing(endpoint: string, logger: Logger): Promise<() => Promise<void>> {
  let sdk: { start(): void; shutdown(): Promise<void> };
  let api: OtelApi;
  try {
    const sdkModule = (await import(sdkPackage)) as {
      NodeSDK: new (
        options: Record<string, unknown>,
      ) => { start(): void; shutdown(): Promise<void> };
    };
    const exporterModule = (await import(exporterPackage)) as {
      OTLPTraceExporter: new (options: Record<string, unknown>) => unknown;
    };
    api = (await import(apiPackage)) as OtelApi;
    sdk = new sdkModule.NodeSDK({
      serviceName: 'engram',
      traceExporter: new exporterModule.OTLPTraceExporter({}),
    });
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
        return await work();
      } catch (error) {
        span.recordException(error);
        span.setStatus({ code: api.SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  logger.info({ endpoint }, 'tracing to OTLP');
  return async () => {
    state.run = (_name, _attributes, work) => work();
    await sdk.shutdown().catch(() => {});
  };
}
