import { textHash, type VectorRecord } from '@engram/core';
import { createRandom } from './random.js';

/** A user's memory as the store keeps it, written at `now`, for the store-path preloads. */
export function userRecord(
  id: string,
  item: { userId: string; text: string },
  vector: number[],
  now: string,
): VectorRecord {
  const { userId, text } = item;
  return {
    id,
    vector,
    text,
    hash: textHash(text),
    userId,
    metadata: {},
    createdAt: now,
    updatedAt: now,
  };
}

const attributes = [
  'Lives in',
  'Works at',
  'Likes eating',
  'Plays the',
  'Drives a',
  'Studies at',
  'Is allergic to',
  'Prefers drinking',
  'Owns a',
  'Travels to',
  'Reads books about',
  'Has a dog named',
  'Has a cat named',
  'Is learning',
  'Supports the team',
  'Listens to',
  'Cooks with',
  'Grows',
  'Collects',
  'Volunteers at',
];
const syllables = 'ka lo mi ne ru sa ti vo be da fe gu hi jo ku la ma no pe ro su ta ve wo'.split(
  ' ',
);

function word(random: () => number): string {
  let text = '';
  const length = 2 + Math.floor(random() * 2);
  for (let index = 0; index < length; index++) {
    text += syllables[Math.floor(random() * syllables.length)];
  }
  return text;
}

/** The same synthetic facts, conversations and questions for every system. */
export function createPipelineData(options: { users: number; seed?: number }) {
  const seed = options.seed ?? 11;
  return {
    users: options.users,
    /** The `index`-th stored fact. */
    memory(index: number): { userId: string; text: string } {
      const random = createRandom(seed * 1_000_003 + index);
      const attribute = attributes[Math.floor(random() * attributes.length)]!;
      return {
        userId: `user-${index % options.users}`,
        text: `${attribute} ${word(random)} ${word(random)}`,
      };
    },
    /** A short exchange with two facts: one changes an attribute the user may have, one is new. */
    conversation(index: number): {
      userId: string;
      messages: { role: 'user' | 'assistant'; content: string }[];
    } {
      const random = createRandom(seed * 7_000_003 + index);
      const user = Math.floor(random() * options.users);
      const first = attributes[Math.floor(random() * attributes.length)]!;
      const second = attributes[Math.floor(random() * attributes.length)]!;
      return {
        userId: `user-${user}`,
        messages: [
          {
            role: 'user',
            content: `${first} ${word(random)} ${word(random)} now. ${second} ${word(random)}.`,
          },
          { role: 'assistant', content: 'Noted, thanks for telling me.' },
        ],
      };
    },
    /** A question about one attribute of a user. */
    question(index: number): { userId: string; query: string } {
      const random = createRandom(seed * 9_000_011 + index);
      const user = Math.floor(random() * options.users);
      const attribute = attributes[Math.floor(random() * attributes.length)]!;
      return {
        userId: `user-${user}`,
        query: `What ${attribute.toLowerCase()} does the user mention?`,
      };
    },
  };
}

export type PipelineData = ReturnType<typeof createPipelineData>;
