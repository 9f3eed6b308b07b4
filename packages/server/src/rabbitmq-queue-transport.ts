import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { QueueDelivery, QueueMessage, QueueTransport } from './queue-transport.js';

/** Options of {@link createRabbitmqTransport}. */
export interface RabbitmqTransportOptions {
  /** `amqp://` or `amqps://` URL (`RABBITMQ_URL`). */
  url: string;
  /** Queue name; `<name>.retry` holds delayed retries and `<name>.dead` the dead letters. */
  name: string;
  /**
   * Deliveries of one message before the broker dead-letters it by itself (consumers that keep
   * dying on it): the quorum queue's delivery limit.
   */
  deliveryLimit: number;
}

const attemptHeader = 'x-engram-attempt';

/**
 * RabbitMQ through `amqplib`: a durable quorum queue with manual acknowledgements and a prefetch
 * of the consumer's concurrency; a message whose consumer dies is delivered again as soon as the
 * broker sees the connection drop. Retries wait in `<name>.retry` (per-message TTL) and return to
 * the queue through its dead-letter exchange; dead letters go through `<name>.dlx` to
 * `<name>.dead`, where they stay for inspection. `counts()` reports the ready messages of the
 * three queues as `waiting`, `delayed` and `failed`.
 */
export function createRabbitmqTransport(options: RabbitmqTransportOptions): QueueTransport {
  const { name } = options;
  const retryQueue = `${name}.retry`;
  const deadQueue = `${name}.dead`;
  const deadExchange = `${name}.dlx`;
  let opened: Promise<{ connection: ChannelModel; publisher: ConfirmChannel }> | undefined;
  const consumers: Array<{ channel: Channel; tag: string }> = [];
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  async function declare(channel: Channel) {
    await channel.assertExchange(deadExchange, 'direct', { durable: true });
    await channel.assertQueue(deadQueue, { durable: true });
    await channel.bindQueue(deadQueue, deadExchange, deadQueue);
    await channel.assertQueue(name, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': deadExchange,
        'x-dead-letter-routing-key': deadQueue,
        'x-delivery-limit': options.deliveryLimit,
      },
    });
    await channel.assertQueue(retryQueue, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': name },
    });
  }

  function open() {
    opened ??= (async () => {
      const { connect } = await import('amqplib');
      const connection = await connect(options.url);
      // A dropped connection is reopened by the next call; errors surface through the calls.
      connection.on('error', () => {});
      connection.on('close', () => {
        opened = undefined;
      });
      const publisher = await connection.createConfirmChannel();
      publisher.on('error', () => {});
      await declare(publisher);
      return { connection, publisher };
    })();
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  }

  async function publish(queue: string, message: QueueMessage, attempt: number, delayMs?: number) {
    const { publisher } = await open();
    await new Promise<void>((resolve, reject) => {
      publisher.sendToQueue(
        queue,
        Buffer.from(JSON.stringify(message)),
        {
          persistent: true,
          messageId: message.id,
          contentType: 'application/json',
          headers: { [attemptHeader]: attempt },
          ...(delayMs === undefined
            ? {}
            : { expiration: String(Math.max(0, Math.round(delayMs))) }),
        },
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  function deliveryOf(channel: Channel, raw: ConsumeMessage): QueueDelivery {
    const message = JSON.parse(raw.content.toString('utf8')) as QueueMessage;
    const headers = raw.properties.headers ?? {};
    const failedBefore = Number(headers[attemptHeader] ?? 0);
    // The quorum queue counts deliveries of this copy that ended without an ack (dead consumers).
    const redelivered = Number(headers['x-delivery-count'] ?? (raw.fields.redelivered ? 1 : 0));
    const attempt = failedBefore + redelivered + 1;
    return {
      ...message,
      attempt,
      async ack() {
        channel.ack(raw);
      },
      async retry(delayMs) {
        await publish(retryQueue, message, attempt, delayMs);
        channel.ack(raw);
      },
      async deadLetter() {
        channel.nack(raw, false, false);
      },
    };
  }

  return {
    kind: 'rabbitmq',
    async send(message) {
      await publish(name, message, 0);
    },
    async consume(concurrency, handler) {
      const { connection } = await open();
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      await channel.prefetch(concurrency);
      const { consumerTag } = await channel.consume(
        name,
        (raw) => {
          if (!raw) return;
          const work = handler(deliveryOf(channel, raw)).catch(() => {
            // Unsettled: the broker delivers it again when this channel closes.
          });
          inFlight.add(work);
          void work.finally(() => inFlight.delete(work));
        },
        { noAck: false },
      );
      consumers.push({ channel, tag: consumerTag });
    },
    async counts() {
      const { publisher } = await open();
      // AMQP reports ready messages only: those a consumer holds unacknowledged are not counted
      // anywhere the protocol shows, so `active` is left out rather than guessed.
      const [main, retry, dead] = await Promise.all(
        [name, retryQueue, deadQueue].map((queue) => publisher.checkQueue(queue)),
      );
      return {
        waiting: main!.messageCount,
        delayed: retry!.messageCount,
        failed: dead!.messageCount,
      };
    },
    async ping() {
      const { publisher } = await open();
      await publisher.checkQueue(name);
    },
    async close(timeoutMs) {
      if (closed) return;
      closed = true;
      for (const { channel, tag } of consumers) await channel.cancel(tag).catch(() => {});
      await Promise.race([
        Promise.all(inFlight),
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
      const current = await opened?.catch(() => undefined);
      await current?.connection.close().catch(() => {});
    },
  };
}
