import { AdapterCallError, type VectorRecord } from '@engram/core';
import { type HttpModelRequest, type HttpModelResponse, startHttpModel } from './http-model.js';

/** A failure a protocol model answers with: an HTTP status and the backend's own error code. */
export class ProtocolModelError extends Error {
  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** The backend's error code or name, e.g. `NotFoundException` or `69`. */
    readonly code: string | number,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolModelError';
  }
}

/** What every recording protocol model has: its URL, what it was asked, and an override. */
export interface RecordingModel<Request, Injected> {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Every request, in order. */
  requests: Request[];
  /** Answers a request before the model does, e.g. to inject a failure. */
  intercept?: ((request: Request) => Injected | undefined) | undefined;
  /** Stops the server. */
  close: () => Promise<void>;
}

/** How {@link startRecordingModel} reads, routes and answers a backend's protocol. */
export interface RecordingModelProtocol<Request, Injected> {
  /** The recorded form of a request. */
  record: (incoming: HttpModelRequest) => Request;
  /** The body of a successful answer; throws {@link ProtocolModelError} for a failure. */
  route: (request: Request) => unknown;
  /** How a successful body is sent. Default: status 200 with the body as is. */
  success?: (body: unknown) => HttpModelResponse;
  /** The backend's error answer. */
  failure: (error: ProtocolModelError) => HttpModelResponse;
  /** The error a model's own mistake (anything else thrown) becomes. */
  unexpected: (caught: unknown) => ProtocolModelError;
  /** The answer to what `intercept` returned. */
  injected: (injected: Injected) => HttpModelResponse;
}

/**
 * Serves a protocol model on 127.0.0.1 (see `startHttpModel`) that records every request in
 * `model.requests`, lets `model.intercept` answer first, and turns what `route` throws into the
 * backend's error answer. `model` is returned with its `url` and `close` set.
 */
export async function startRecordingModel<
  Request,
  Injected,
  Model extends RecordingModel<Request, Injected>,
>(
  model: Model & RecordingModel<Request, Injected>,
  protocol: RecordingModelProtocol<Request, Injected>,
): Promise<Model> {
  const server = await startHttpModel((incoming) => {
    const request = protocol.record(incoming);
    model.requests.push(request);
    try {
      const injected = model.intercept?.(request);
      if (injected !== undefined) return protocol.injected(injected);
      const body = protocol.route(request);
      return protocol.success ? protocol.success(body) : { status: 200, body };
    } catch (caught) {
      return protocol.failure(
        caught instanceof ProtocolModelError ? caught : protocol.unexpected(caught),
      );
    }
  });
  model.url = server.url;
  model.close = server.close;
  return model;
}

/** A failure injected into a model of an AWS service: the status and the error's name. */
export interface AwsInjectedFailure {
  /** The HTTP status. */
  status: number;
  /** The error's name, e.g. `ThrottlingException`. */
  type: string;
}

function awsFailure(error: ProtocolModelError): HttpModelResponse {
  return {
    status: error.status,
    headers: { 'x-amzn-errortype': String(error.code) },
    body: { message: error.message },
  };
}

/**
 * How AWS JSON services answer failures, for {@link startRecordingModel}: the error's name in
 * `x-amzn-errortype` and `{ message }` as the body; a model's own mistake is a 400
 * `ValidationException`; an injected `{ status, type }` is answered the same way.
 */
export const awsErrorProtocol: Pick<
  RecordingModelProtocol<unknown, AwsInjectedFailure>,
  'failure' | 'unexpected' | 'injected'
> = {
  failure: awsFailure,
  unexpected: (caught) => new ProtocolModelError(400, 'ValidationException', String(caught)),
  injected: ({ status, type }) =>
    awsFailure(new ProtocolModelError(status, type, `model: ${type}`)),
};

/** The memory record request-shape tests store: `memory-1`, four dimensions, `seed` on top. */
export function sampleVectorRecord(seed: Partial<VectorRecord> = {}): VectorRecord {
  return {
    id: 'memory-1',
    vector: [1, 0, 0, 0],
    text: 'likes green tea',
    userId: 'alice',
    metadata: { topic: 'drinks', rating: 4.5 },
    createdAt: '2024-01-02T03:04:05.000Z',
    updatedAt: '2024-01-02T03:04:05.000Z',
    ...seed,
  };
}

/** How one injected failure surfaced: whether as `AdapterCallError`, and retryable or not. */
export interface InjectedFailureOutcome {
  /** The case's label. */
  label: string;
  /** `AdapterCallError`, another error's `name`, or `resolved` when the call succeeded. */
  name: string;
  /** `isRetryable` of the error, when it has one. */
  isRetryable: boolean | undefined;
}

/**
 * Runs `call` once per case with `inject(case)` in force, and reports how each failure surfaced,
 * for comparing the status-to-error mapping of an adapter with a table in one assertion.
 */
export async function injectedFailureOutcomes<Case>(
  cases: readonly Case[],
  options: {
    /** The label of a case in the outcome. */
    label: (item: Case) => string;
    /** Puts the case's failure in place (e.g. sets a model's `intercept`). */
    inject: (item: Case) => void;
    /** The call that meets the failure. */
    call: () => Promise<unknown>;
  },
): Promise<InjectedFailureOutcome[]> {
  const outcomes: InjectedFailureOutcome[] = [];
  for (const item of cases) {
    options.inject(item);
    const error = await options.call().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    const retryable = (error as { isRetryable?: unknown } | undefined)?.isRetryable;
    outcomes.push({
      label: options.label(item),
      name:
        error === undefined
          ? 'resolved'
          : AdapterCallError.isInstance(error)
            ? 'AdapterCallError'
            : String((error as { name?: unknown }).name),
      isRetryable: typeof retryable === 'boolean' ? retryable : undefined,
    });
  }
  return outcomes;
}
