import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { queueServer } from './queue-services.js';
import { describeJobQueue } from './queue-suite.js';

const { url, origin } = queueServer('elasticmq', 'SQS_ENDPOINT');
// ElasticMQ accepts any credentials; the SDK needs some to sign requests.
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_REGION ??= 'us-east-1';

describeJobQueue({
  name: 'sqs',
  server: origin === 'native launcher' ? 'native launcher (ElasticMQ)' : origin,
  environment: () => ({ ENGRAM_QUEUE: 'sqs', SQS_ENDPOINT: url }),
  async deadLetters(name) {
    const client = new SQSClient({ endpoint: url, region: process.env.AWS_REGION });
    try {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: `${name}-dead` }));
      const ids = new Set<string>();
      const received = await client.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const message of received.Messages ?? []) {
        ids.add((JSON.parse(message.Body ?? '{}') as { id: string }).id);
      }
      if (received.Messages?.length) {
        // Back to visible at once, for the next look.
        await client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl,
            Entries: received.Messages.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle!,
              VisibilityTimeout: 0,
            })),
          }),
        );
      }
      return [...ids];
    } finally {
      client.destroy();
    }
  },
});
