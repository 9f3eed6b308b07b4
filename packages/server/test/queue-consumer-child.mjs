// A consumer process for the queue suite: takes jobs from the queue configured by
// ENGRAM_TEST_QUEUE_CONFIG, prints "started <job id>" for the first one and never finishes it,
// so the suite can kill it with SIGKILL in the middle of the job.
import { createJobQueue } from '../dist/index.js';

const config = JSON.parse(process.env.ENGRAM_TEST_QUEUE_CONFIG);
const queue = createJobQueue(config);
await queue.startWorkers(1, async (_job, run) => {
  process.stdout.write(`started ${run.id}\n`);
  await new Promise(() => {});
});
