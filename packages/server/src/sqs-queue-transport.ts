import type { SQSClient, Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { QueueDelivery, QueueMessage, QueueTransport } from './queue-transport.js';

/** Options of {@link createSqsTransport}. */
export interface SqsTransportOptions {
  /**
   * Endpoint of an SQS-compatible server (`SQS_ENDPOINT`, e.g. ElasticMQ); unset: AWS's own,
   * from the region. Credentials and region come from the AWS SDK's usual settings
   * (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, profiles, instance roles).
   */
  endpoint?: string;
  /** Region. Default `AWS_REGION`, else `us-east-1`. */
  region?: string;
  /** Queue name; `<name>-dead` is its dead-letter queue. Both are created when missing. */
  name: string;
  /** How long a received message stays invisible to others; renewed while its job runs. */
  visibilityTimeoutMs: number;
  /** Receives of one message before SQS moves it to the dead-letter queue by itself. */
  maxReceiveCount: number;
}

const seconds = (ms: number) => Math.max(0, Math.min(43_200, Math.ceil(ms / 1000)));

/**
 * Amazon SQS (or a server speaking its protocol) through `@aws-sdk/client-sqs`: long polling,
 * a visibility timeout renewed while a job runs (a dead consumer's message reappears once it
 * expires), retries by changing the message's visibility to the backoff, the receive count as
 * the attempt, and a dead-letter queue through a redrive policy. `counts()` reports SQS's
 * approximate numbers: `active` is the messages in flight, which includes retries waiting out
 * their backoff (a retry hides its message rather than re-sending it).
 */
export function createSqsTransport(options: SqsTransportOptions): QueueTransport {
  const deadName = `${options.name}-dead`;
  const visibility = seconds(options.visibilityTimeoutMs) || 1;
  let opened: Promise<{ client: SQSClient; url: string; deadUrl: string }> | undefined;
  const polling = new AbortController();
  const loops: Promise<void>[] = [];
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  function open() {
    opened ??= (async () => {
      const sqs = await import('@aws-sdk/client-sqs');
      const client = new sqs.SQSClient({
        region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      });
      const dead = await client.send(new sqs.CreateQueueCommand({ QueueName: deadName }));
      const deadUrl = dead.QueueUrl!;
      const attributes = await client.send(
        new sqs.GetQueueAttributesCommand({ QueueUrl: deadUrl, AttributeNames: ['QueueArn'] }),
      );
      const created = await client.send(
        new sqs.CreateQueueCommand({
          QueueName: options.name,
          Attributes: {
            VisibilityTimeout: String(visibility),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: attributes.Attributes?.QueueArn,
              maxReceiveCount: options.maxReceiveCount,
            }),
          },
        }),
      );
      return { client, url: created.QueueUrl!, deadUrl };
    })();
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  }

  /** A delivery; `settle` stops renewing its visibility before the outcome is sent. */
  async function deliveryOf(raw: SqsMessage, settle: () => void): Promise<QueueDelivery> {
    const sqs = await import('@aws-sdk/client-sqs');
    const { client, url, deadUrl } = await open();
    const message = JSON.parse(raw.Body ?? '{}') as QueueMessage;
    const handle = raw.ReceiptHandle!;
    const remove = () => {
      settle();
      return client.send(new sqs.DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handle }));
    };
    return {
      ...message,
      attempt: Number(raw.Attributes?.ApproximateReceiveCount ?? 1),
      async ack() {
        await remove();
      },
      async retry(delayMs) {
        settle();
        await client.send(
          new sqs.ChangeMessageVisibilityCommand({
            QueueUrl: url,
            ReceiptHandle: handle,
            VisibilityTimeout: seconds(delayMs),
          }),
        );
      },
      async deadLetter(error) {
        await client.send(
          new sqs.SendMessageCommand({
            QueueUrl: deadUrl,
            MessageBody: raw.Body ?? '{}',
            MessageAttributes: {
              error: { DataType: 'String', StringValue: `${error.code}: ${error.message}` },
            },
          }),
        );
        await remove();
      },
    };
  }

  /** Keeps a message invisible while its job runs. */
  function holdVisible(handle: string) {
    const timer = setInterval(
      () => {
        void (async () => {
          const sqs = await import('@aws-sdk/client-sqs');
          const { client, url } = await open();
          await client.send(
            new sqs.ChangeMessageVisibilityCommand({
              QueueUrl: url,
              ReceiptHandle: handle,
              VisibilityTimeout: visibility,
            }),
          );
        })().catch(() => {});
      },
      Math.max(500, (visibility * 1000) / 2),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  async function poll(
    concurrency: number,
    handler: (delivery: QueueDelivery) => Promise<void>,
  ): Promise<void> {
    const sqs = await import('@aws-sdk/client-sqs');
    const running = new Set<Promise<void>>();
    while (!closed) {
      while (running.size >= concurrency) await Promise.race(running);
      let received: SqsMessage[] = [];
      try {
        const { client, url } = await open();
        const answer = await client.send(
          new sqs.ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(10, concurrency - running.size),
            WaitTimeSeconds: 5,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: polling.signal },
        );
        received = answer.Messages ?? [];
      } catch {
        if (closed) return;
        // An unreachable endpoint: wait a little rather than spin.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      for (const raw of received) {
        const release = holdVisible(raw.ReceiptHandle!);
        const work = deliveryOf(raw, release)
          .then(handler)
          .catch(() => {
            // Unsettled: the message reappears when its visibility timeout expires.
          })
          .finally(release);
        running.add(work);
        inFlight.add(work);
        void work.finally(() => {
          running.delete(work);
          inFlight.delete(work);
        });
      }
    }
  }

  return {
    kind: 'sqs',
    async send(message) {
      const sqs = await import('@aws-sdk/client-sqs');
      const { client, url } = await open();
      await client.send(
        new sqs.SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(message) }),
      );
    },
    async consume(concurrency, handler) {
      await open();
      loops.push(poll(concurrency, handler));
    },
    async counts() {
      const sqs = await import('@aws-sdk/client-sqs');
      const { client, url, deadUrl } = await open();
      const [main, dead] = await Promise.all([
        client.send(
          new sqs.GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
        ),
        client.send(
          new sqs.GetQueueAttributesCommand({
            QueueUrl: deadUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        ),
      ]);
      const count = (attributes: Record<string, string> | undefined, name: string) =>
        Number(attributes?.[name] ?? 0);
      return {
        waiting: count(main.Attributes, 'ApproximateNumberOfMessages'),
        active: count(main.Attributes, 'ApproximateNumberOfMessagesNotVisible'),
        delayed: count(main.Attributes, 'ApproximateNumberOfMessagesDelayed'),
        failed: count(dead.Attributes, 'ApproximateNumberOfMessages'),
      };
    },
    async ping() {
      const sqs = await import('@aws-sdk/client-sqs');
      const { client, url } = await open();
      await client.send(
        new sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
    },
    async close(timeoutMs) {
      if (closed) return;
      closed = true;
      polling.abort();
      await Promise.race([
        Promise.all([...loops, ...inFlight]),
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
      (await opened?.catch(() => undefined))?.client.destroy();
    },
  };
}
