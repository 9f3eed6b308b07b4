import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describeJobQueue } from './queue-suite.js';
import { startTestRedis } from './service-harness.js';

const url = startTestRedis();

describeJobQueue({
  name: 'bullmq',
  server: process.env.ENGRAM_TEST_REDIS_URL ? 'environment' : 'Debian redis-server',
  environment: () => ({ ENGRAM_QUEUE: 'bullmq', REDIS_URL: url }),
  async deadLetters(name) {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue(name, { connection });
    try {
      return (await queue.getFailed()).map((job) => job.id!);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  },
});
