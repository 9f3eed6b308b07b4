import { createGaussian, createRandom, normalize } from './random.js';

/** Options of {@link createClusteredCorpus}. */
export interface ClusteredCorpusOptions {
  /** Number of users the memories are spread over (round robin). */
  users: number;
  /** Vector length. Default 384. */
  dimensions?: number;
  /** Topics shared by all users. Default 1000. */
  topics?: number;
  /** Topics each user talks about. Default 4. */
  topicsPerUser?: number;
  /** Length of the noise added to a topic centre (the centre has length 1). Default 0.8. */
  noise?: number;
  seed?: number;
}

/** One generated memory or query. */
export interface ClusteredItem {
  userId: string;
  text: string;
  vector: Float32Array;
}

const syllables =
  'ka lo mi ne ru sa ti vo be da fe gu hi jo ku la ma no pe qui ro su ta ve wo xa yo ze'.split(' ');
const commonWords =
  'likes wants visited bought planned mentioned prefers remembers enjoys needs'.split(' ');

/**
 * Deterministic synthetic memories that look like real embeddings rather than uniform noise: a
 * mixture of Gaussians on the unit sphere. Every user talks about a few topics; a memory is its
 * topic's centre plus Gaussian noise, normalized, and its text uses the topic's vocabulary, so
 * vector and keyword search both have structure to find.
 */
export function createClusteredCorpus(options: ClusteredCorpusOptions) {
  const dimensions = options.dimensions ?? 384;
  const topicCount = options.topics ?? 1000;
  const topicsPerUser = options.topicsPerUser ?? 4;
  const sigma = (options.noise ?? 0.8) / Math.sqrt(dimensions);
  const seed = options.seed ?? 7;
  const setup = createRandom(seed);
  const setupGaussian = createGaussian(setup);
  const centres = new Float32Array(topicCount * dimensions);
  const vocabulary: string[][] = [];
  for (let topic = 0; topic < topicCount; topic++) {
    const centre = centres.subarray(topic * dimensions, (topic + 1) * dimensions);
    for (let index = 0; index < dimensions; index++) centre[index] = setupGaussian();
    normalize(centre);
    const words: string[] = [];
    for (let word = 0; word < 8; word++) {
      const length = 2 + Math.floor(setup() * 2);
      let text = '';
      for (let part = 0; part < length; part++) {
        text += syllables[Math.floor(setup() * syllables.length)];
      }
      words.push(text);
    }
    vocabulary.push(words);
  }

  function userTopic(user: number, random: () => number): number {
    const pick = Math.floor(random() * topicsPerUser);
    // A fixed, user-specific set of topics without storing a table for 10,000 users.
    return ((Math.imul(user + 1, 2_654_435_761) + pick * 7_919) >>> 0) % topicCount;
  }

  function make(user: number, random: () => number, label: string): ClusteredItem {
    const gaussian = createGaussian(random);
    const topic = userTopic(user, random);
    const vector = new Float32Array(dimensions);
    const centre = topic * dimensions;
    for (let index = 0; index < dimensions; index++) {
      vector[index] = centres[centre + index]! + sigma * gaussian();
    }
    normalize(vector);
    const words = vocabulary[topic]!;
    const pick = () => words[Math.floor(random() * words.length)]!;
    const verb = commonWords[Math.floor(random() * commonWords.length)]!;
    const text = `${label} ${verb} ${pick()} ${pick()} with ${pick()} and ${pick()} ${pick()}`;
    return { userId: `user-${user}`, text, vector };
  }

  return {
    dimensions,
    users: options.users,
    /** The `index`-th memory; the same index always gives the same memory. */
    memory(index: number): ClusteredItem {
      const user = index % options.users;
      return make(user, createRandom(seed * 1_000_003 + index), `note ${index}`);
    },
    /** The `index`-th query: a new point near one of a user's topics. */
    query(index: number): ClusteredItem {
      const random = createRandom(seed * 7_777_777 + 1_000_000_007 + index);
      const user = Math.floor(random() * options.users);
      return make(user, random, 'what');
    },
  };
}

export type ClusteredCorpus = ReturnType<typeof createClusteredCorpus>;
