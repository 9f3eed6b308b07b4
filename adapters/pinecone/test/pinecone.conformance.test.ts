import { describeVectorStore, providedServer } from '@engram/conformance';
import { createPineconeVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

/**
 * Pinecone Local serves each index on its own port (5081, 5082, ...) and reports that port in
 * the index host. Under Testcontainers those ports are remapped; the service URL carries the
 * mapping in its fragment (`#index-ports=5081=49153,...`), turned here into `indexHost`.
 */
function connection(serviceUrl: string | undefined) {
  if (!serviceUrl) return {};
  const parsed = new URL(serviceUrl);
  const ports = new Map(
    (/index-ports=([^&]*)/.exec(parsed.hash)?.[1] ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
  return {
    url: parsed.origin,
    apiKey: process.env.PINECONE_API_KEY ?? 'pinecone-local',
    indexHost: (host: string) => {
      const port = /:(\d+)$/.exec(host)?.[1];
      const mapped = port ? ports.get(port) : undefined;
      return mapped ? `http://${parsed.hostname}:${mapped}` : `${parsed.protocol}//${host}`;
    },
  };
}

describeVectorStore({
  name: 'pinecone',
  create: () => createPineconeVectorStore(connection(url)),
  timeout: 60_000,
  ...server,
});
