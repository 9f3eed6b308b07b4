import type {
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3Message,
  LanguageModelV3StreamPart,
} from '@ai-sdk/provider';
import type {
  AddOptions,
  FilterInput,
  JsonValue,
  Memory,
  Scope,
  SearchResultItem,
} from '@engram/core';
import { InvalidArgumentError, normalizeScope } from '@engram/core';
import type { LanguageModelMiddleware } from 'ai';

/** The part of a `Memory` the middleware and the tools use; a `Memory` instance fits. */
export type MemoryLike = Pick<Memory, 'search' | 'add'>;

/** Which step of the middleware failed, passed to `onError`. */
export type EngramMemoryPhase = 'search' | 'add';

/** Options of {@link engramMemory}. */
export interface EngramMemoryOptions extends Scope {
  /** Where memories are searched and stored. */
  memory: MemoryLike;
  /** Memories fetched per call, before the token budget cuts them. Default 10. */
  limit?: number;
  /**
   * Most tokens the memory block may take in the prompt (estimated with `countTokens`). Memories
   * are taken best first until the next one would not fit. Default 1,000.
   */
  tokenBudget?: number;
  /** Leave out memories whose similarity to the last user message is below this. */
  threshold?: number;
  /** Metadata filter for the search (portable AST or the mem0-style shorthand). */
  filters?: FilterInput;
  /**
   * Where the memory block goes. `system` (default): a system message right after the prompt's
   * leading system messages, which every provider accepts; the application's own system prompt
   * stays a cacheable prefix. `before-last-user`: a system message right before the last user
   * message, so the whole earlier conversation stays a cacheable prefix too (for providers that
   * accept system messages between turns, such as OpenAI).
   */
  placement?: 'system' | 'before-last-user';
  /**
   * Turns the chosen memories into the block's text. Default: a short heading and one
   * `- memory` line each. Memories arrive in a stable order (oldest first) so that the same
   * memories give the same block, byte for byte.
   */
  formatMemories?: (memories: SearchResultItem[]) => string;
  /** Estimates the tokens of a text. Default: one token per four characters. */
  countTokens?: (text: string) => number;
  /** Store each exchange (last user message and reply) after the call. Default true. */
  store?: boolean;
  /** Passed to `memory.add`: extract facts with the LLM. Default: the Memory's own default. */
  infer?: boolean;
  /** Stored with every memory the exchange creates. */
  metadata?: Record<string, JsonValue>;
  /**
   * Called when a search or a background add fails. The reply goes on either way (without
   * memories when the search failed). Default: `console.warn`.
   */
  onError?: (error: unknown, phase: EngramMemoryPhase) => void;
}

/** The middleware, plus a way to wait for its background writes. */
export type EngramMemoryMiddleware = LanguageModelMiddleware & {
  /**
   * Resolves once every background `add` started so far has settled (it never rejects): await
   * it before a serverless function returns, or pass it to `waitUntil`.
   */
  flush(): Promise<void>;
};

const defaultLimit = 10;
const defaultTokenBudget = 1000;
const source = 'ai-sdk';

function defaultCountTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function defaultFormatMemories(memories: SearchResultItem[]): string {
  const lines = memories.map((memory) => `- ${memory.memory.replace(/\s+/g, ' ').trim()}`);
  return `What you remember about this user (use it when relevant; do not mention this list):\n${lines.join('\n')}`;
}

function defaultOnError(error: unknown, phase: EngramMemoryPhase): void {
  console.warn(`[engram/${source}] memory ${phase} failed:`, error);
}

/** The text of the last user message of a prompt, or undefined when it has none. */
export function lastUserText(prompt: LanguageModelV3Message[]): string | undefined {
  for (let index = prompt.length - 1; index >= 0; index--) {
    const message = prompt[index];
    if (message?.role !== 'user') continue;
    const text = message.content
      .flatMap((part) => (part.type === 'text' ? [part.text] : []))
      .join('\n')
      .trim();
    return text.length > 0 ? text : undefined;
  }
  return undefined;
}

/**
 * Chooses memories best first within the token budget, then orders them oldest first so that the
 * block is identical whenever the same memories are chosen.
 */
export function selectMemories(
  results: SearchResultItem[],
  tokenBudget: number,
  countTokens: (text: string) => number = defaultCountTokens,
): SearchResultItem[] {
  const chosen: SearchResultItem[] = [];
  let used = 0;
  for (const result of results) {
    const cost = countTokens(result.memory) + 2;
    if (used + cost > tokenBudget) break;
    chosen.push(result);
    used += cost;
  }
  return chosen.sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

function insertBlock(
  prompt: LanguageModelV3Message[],
  block: string,
  placement: 'system' | 'before-last-user',
): LanguageModelV3Message[] {
  const message: LanguageModelV3Message = { role: 'system', content: block };
  let at = 0;
  if (placement === 'before-last-user') {
    at = prompt.findLastIndex((entry) => entry.role === 'user');
  } else {
    while (prompt[at]?.role === 'system') at++;
  }
  return [...prompt.slice(0, at), message, ...prompt.slice(at)];
}

function generatedText(content: LanguageModelV3Content[]): string {
  return content
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('')
    .trim();
}

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be a positive number, got ${value}.`,
    });
  }
}

/**
 * AI SDK middleware that gives a model long-term memory: before each call it searches the
 * memories relevant to the last user message and puts them into the prompt as one system block
 * within a token budget; after the call it stores the exchange with `memory.add` in the
 * background, never delaying or failing the reply. Works with `generateText` and `streamText`
 * (a stream's exchange is stored once it finishes).
 *
 * ```ts
 * const model = wrapLanguageModel({
 *   model: openai('gpt-4.1-mini'),
 *   middleware: engramMemory({ memory, userId: 'alice' }),
 * });
 * ```
 */
export function engramMemory(options: EngramMemoryOptions): EngramMemoryMiddleware {
  const { memory } = options;
  if (!memory || typeof memory.search !== 'function' || typeof memory.add !== 'function') {
    throw new InvalidArgumentError({
      source,
      message: 'engramMemory needs `memory`: pass a Memory from @engram/core.',
    });
  }
  const scope = normalizeScope(options, { required: true, source });
  checkPositive('limit', options.limit);
  checkPositive('tokenBudget', options.tokenBudget);
  const limit = options.limit ?? defaultLimit;
  const tokenBudget = options.tokenBudget ?? defaultTokenBudget;
  const countTokens = options.countTokens ?? defaultCountTokens;
  const format = options.formatMemories ?? defaultFormatMemories;
  const placement = options.placement ?? 'system';
  const onError = options.onError ?? defaultOnError;
  const pending = new Set<Promise<void>>();

  function report(error: unknown, phase: EngramMemoryPhase): void {
    try {
      onError(error, phase);
    } catch {
      // A failing error handler must not break the reply either.
    }
  }

  function storeExchange(userText: string | undefined, reply: string): void {
    if (options.store === false || !userText || reply.length === 0) return;
    const addOptions: AddOptions = { ...scope };
    if (options.infer !== undefined) addOptions.infer = options.infer;
    if (options.metadata !== undefined) addOptions.metadata = options.metadata;
    const task = Promise.resolve()
      .then(() =>
        memory.add(
          [
            { role: 'user', content: userText },
            { role: 'assistant', content: reply },
          ],
          addOptions,
        ),
      )
      .then(
        () => undefined,
        (error: unknown) => report(error, 'add'),
      );
    pending.add(task);
    void task.finally(() => pending.delete(task));
  }

  return {
    specificationVersion: 'v3',

    async transformParams({ params }): Promise<LanguageModelV3CallOptions> {
      const query = lastUserText(params.prompt);
      if (!query) return params;
      let results: SearchResultItem[];
      try {
        const found = await memory.search(query, {
          ...scope,
          limit,
          ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
          ...(options.filters === undefined ? {} : { filters: options.filters }),
          ...(params.abortSignal ? { abortSignal: params.abortSignal } : {}),
        });
        results = found.results;
      } catch (error) {
        report(error, 'search');
        return params;
      }
      const chosen = selectMemories(results, tokenBudget, countTokens);
      if (chosen.length === 0) return params;
      return { ...params, prompt: insertBlock(params.prompt, format(chosen), placement) };
    },

    async wrapGenerate({ doGenerate, params }) {
      const result = await doGenerate();
      storeExchange(lastUserText(params.prompt), generatedText(result.content));
      return result;
    },

    async wrapStream({ doStream, params }) {
      const { stream, ...rest } = await doStream();
      const userText = lastUserText(params.prompt);
      let reply = '';
      let failed = false;
      const watched = stream.pipeThrough(
        new TransformStream<LanguageModelV3StreamPart, LanguageModelV3StreamPart>({
          transform(part, controller) {
            if (part.type === 'text-delta') reply += part.delta;
            else if (part.type === 'error') failed = true;
            controller.enqueue(part);
          },
          flush() {
            if (!failed) storeExchange(userText, reply.trim());
          },
        }),
      );
      return { stream: watched, ...rest };
    },

    async flush(): Promise<void> {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
