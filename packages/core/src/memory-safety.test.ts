import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import { unsafeCharacterMessage } from './text.js';

const offline = { embedder: createHashEmbedder(), graphStore: null, llm: null };

function newMemory() {
  return new Memory({ vectorStore: createInMemoryStore(), ...offline });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

describe('by-id calls with a scope', () => {
  it("answers another scope's id exactly as a missing one, and its own as usual", async () => {
    const memory = newMemory();
    const [alice] = (await memory.add('Likes tea', { userId: 'alice', agentId: 'travel' })).results;
    const id = alice!.id;
    const missing = 'no-such-id';

    expect(await memory.get(id, { userId: 'bob' })).toBeNull();
    expect(await memory.get(id, { userId: 'alice', agentId: 'other' })).toBeNull();
    expect((await memory.get(id, { userId: 'alice' }))?.id).toBe(id);
    expect((await memory.get(id, { userId: 'alice', agentId: 'travel' }))?.id).toBe(id);
    expect((await memory.get(id))?.id).toBe(id);

    for (const call of [
      (target: string) => memory.update(target, { text: 'Likes coffee', userId: 'bob' }),
      (target: string) => memory.delete(target, { userId: 'bob' }),
      (target: string) => memory.history(target, { userId: 'bob' }),
    ]) {
      const foreign = await rejection(call(id));
      const unknown = await rejection(call(missing));
      expect(NotFoundError.isInstance(foreign)).toBe(true);
      expect(foreign.message).toBe(unknown.message.replace(missing, id));
    }
    // Nothing was changed by the refused calls.
    expect((await memory.get(id))?.memory).toBe('Likes tea');
    expect((await memory.history(id, { userId: 'alice' })).map((event) => event.event)).toEqual([
      'ADD',
    ]);

    const updated = await memory.update(id, { text: 'Likes coffee', userId: 'alice' });
    expect(updated.memory).toBe('Likes coffee');
    await memory.delete(id, { userId: 'alice', agentId: 'travel' });
    // The history of a deleted memory is still checked against its scope.
    expect((await memory.history(id, { userId: 'alice' })).map((event) => event.event)).toEqual([
      'ADD',
      'UPDATE',
      'DELETE',
    ]);
    expect(NotFoundError.isInstance(await rejection(memory.history(id, { userId: 'bob' })))).toBe(
      true,
    );
  });

  it('refuses a malformed scope on a by-id call', async () => {
    const memory = newMemory();
    const error = await rejection(memory.get('x', { userId: ' ' }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
  });

  it('throws NotFoundError for the history of an id with no memory and no event', async () => {
    const memory = newMemory();
    const error = await rejection(memory.history('never-existed'));
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(error.message).toBe('No memory with id "never-existed".');
  });
});

describe('text that could hurt an operator', () => {
  it('names the character and its position', () => {
    expect(unsafeCharacterMessage('hello world\u0007', 'text')).toBe(
      'text contains U+0007 (BEL) at character 12; remove control characters (tab and newline are allowed).',
    );
    expect(unsafeCharacterMessage('a\u001b[2Jb', 'text')).toContain('U+001B (ESC) at character 2');
    expect(unsafeCharacterMessage('😀\ud800', 'text')).toBe(
      'text is not well-formed Unicode: lone surrogate U+D800 at character 2; send valid UTF-8 (or UTF-16) text.',
    );
    expect(unsafeCharacterMessage('x\u009bz', 'text')).toContain('U+009B (CSI)');
    expect(unsafeCharacterMessage('one\rtwo', 'text')).toContain('U+000D (CR) at character 4');
    for (const fine of ['tab\there', 'line\nbreak', 'windows\r\nline', 'emoji 😀 ok', 'ü €']) {
      expect(unsafeCharacterMessage(fine, 'text'), fine).toBeUndefined();
    }
  });

  it('refuses control characters and lone surrogates in add, update, import and metadata', async () => {
    const memory = newMemory();
    const [kept] = (await memory.add('Likes tea', { userId: 'alice' })).results;
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['messages', () => memory.add('ring \u0007 the bell', { userId: 'alice' })],
      [
        'messages[1].content',
        () =>
          memory.add(
            [
              { role: 'user', content: 'fine' },
              { role: 'assistant', content: 'lone \udc00' },
            ],
            { userId: 'alice' },
          ),
      ],
      ['text', () => memory.update(kept!.id, { text: 'clear \u001b[2J screen' })],
      ['items[0].text', () => memory.import([{ userId: 'alice', text: 'nul \u0000 byte' }])],
      [
        'metadata.note',
        () => memory.add('fine', { userId: 'alice', metadata: { note: 'bell \u0007' } }),
      ],
      [
        'metadata key',
        () => memory.add('fine', { userId: 'alice', metadata: { 'ke\u001by': 'x' } }),
      ],
      [
        'metadata.list[1]',
        () => memory.add('fine', { userId: 'alice', metadata: { list: ['ok', '\u0008'] } }),
      ],
    ];
    for (const [name, attempt] of attempts) {
      const error = await rejection(attempt());
      expect(InvalidArgumentError.isInstance(error), name).toBe(true);
      expect(error.message, name).toContain(`${name} `);
      expect(error.message, name).toMatch(/U\+[0-9A-F]{4}/);
    }
    const page = await memory.list({ userId: 'alice' });
    expect(page.results.map((item) => item.memory)).toEqual(['Likes tea']);
  });
});

describe('what the engine says about bad input', () => {
  it('says which shape messages take', async () => {
    const memory = newMemory();
    const shape =
      /a string or an array of \{ role: "user" \| "assistant" \| "system", content: string \}/;
    for (const messages of [42, { role: 'user' }, [{ role: 'robot', content: 'x' }], [null]]) {
      const error = await rejection(memory.add(messages as never, { userId: 'alice' }));
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(shape);
    }
  });

  it('takes a threshold from 0 to 1', async () => {
    const memory = newMemory();
    for (const threshold of [-0.1, 1.5, Number.NaN]) {
      const error = await rejection(memory.search('tea', { userId: 'alice', threshold }));
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/^threshold must be a number from 0 to 1/);
    }
    await expect(memory.search('tea', { userId: 'alice', threshold: 0 })).resolves.toBeDefined();
    await expect(memory.search('tea', { userId: 'alice', threshold: 1 })).resolves.toBeDefined();
  });
});
