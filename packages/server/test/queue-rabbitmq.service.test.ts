import { connect } from 'amqplib';
import { queueServer } from './queue-services.js';
import { describeJobQueue } from './queue-suite.js';

const { url, origin } = queueServer('rabbitmq', 'RABBITMQ_URL');

describeJobQueue({
  name: 'rabbitmq',
  server: origin,
  environment: () => ({ ENGRAM_QUEUE: 'rabbitmq', RABBITMQ_URL: url }),
  async deadLetters(name) {
    const connection = await connect(url);
    try {
      const channel = await connection.createChannel();
      const ids: string[] = [];
      for (;;) {
        const message = await channel.get(`${name}.dead`, { noAck: false });
        if (!message) break;
        ids.push(message.properties.messageId as string);
      }
      // Unacknowledged, they stay in the dead-letter queue when the channel closes.
      await channel.close();
      return ids;
    } finally {
      await connection.close();
    }
  },
});
