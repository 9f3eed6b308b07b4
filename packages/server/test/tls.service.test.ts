import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKey,
  type EngramServer,
  spawnEngram,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

let dataDir: { path: string; dispose(): Promise<void> };
let server: EngramServer;
let key: string;
let cert: Buffer;
let port: number;

/** One HTTPS GET trusting the test's own certificate, with the client's TLS versions. */
function get(path: string, options: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; bearer?: string } = {}) {
  return new Promise<{ status: number; body: string; protocol: string }>((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: cert,
        servername: 'localhost',
        ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
        headers: options.bearer ? { authorization: `Bearer ${options.bearer}` } : {},
      },
      (response) => {
        const protocol = (call.socket as TLSSocket | null)?.getProtocol() ?? '';
        let body = '';
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, protocol }));
      },
    );
    call.on('error', reject);
    call.end();
  });
}

beforeAll(async () => {
  dataDir = await temporaryDataDir();
  key = createKey(dataDir.path, 'alpha').key;
  const certFile = join(dataDir.path, 'cert.pem');
  const keyFile = join(dataDir.path, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(certFile);
  server = await startEngramServer(dataDir.path, {
    args: ['--tls-cert', certFile, '--tls-key', keyFile, '--workers', '1'],
  });
  const listening = server.logs.find((line) => line.msg === 'listening')!;
  expect(listening.tls).toBe('TLSv1.3');
  port = listening.port as number;
});

afterAll(async () => {
  await server?.stop();
  await dataDir?.dispose();
});

describe('engram serve --tls-cert --tls-key', () => {
  it('serves the API over TLS 1.3', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(health.protocol).toBe('TLSv1.3');
    const list = await get('/v1/memories?userId=alice', { bearer: key });
    expect(list.status).toBe(200);
  });

  it('refuses clients that offer TLS 1.2 at most', async () => {
    await expect(get('/healthz', { maxVersion: 'TLSv1.2' })).rejects.toThrow(
      /version|protocol|alert/i,
    );
  });

  it('says what is missing when only one of the two files is given', async () => {
    const child = spawnEngram([
      '--data-dir',
      dataDir.path,
      'serve',
      '--port',
      '0',
      '--tls-cert',
      'cert.pem',
    ]);
    const code = await child.exited;
    expect(code).not.toBe(0);
    expect(child.output()).toContain('--tls-key (ENGRAM_TLS_KEY) is missing');
  });
});
