import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AdapterCallError,
  type BackupTarget,
  createDirectoryBackupTarget,
  type HistoryEvent,
  InvalidArgumentError,
  NotFoundError,
  readHistoryArchive,
} from '@engram/core';

/** Environment variables of the S3-compatible object storage (MinIO, SeaweedFS, R2, GCS, ...). */
export type BackupEnvironment = Record<string, string | undefined>;

/**
 * A place holding many backups, each under its own name (a subdirectory, or an object prefix):
 * what a backup schedule writes to and prunes.
 */
export interface BackupStorage {
  /** The location, for messages. */
  readonly location: string;
  /** The target of one backup, `<location>/<name>`. */
  target(name: string): BackupTarget;
  /** Names of the complete backups (those with a manifest), oldest first by name. */
  list(): Promise<string[]>;
  /** Deletes one backup and everything in it. */
  remove(name: string): Promise<void>;
}

interface S3Location {
  bucket: string;
  prefix: string;
}

function parseS3(location: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location.trim());
  if (!match) return undefined;
  return { bucket: match[1]!, prefix: match[2]!.replace(/\/+$/, '') };
}

const joinKey = (...parts: string[]) => parts.filter((part) => part.length > 0).join('/');

type S3Module = typeof import('@aws-sdk/client-s3');

async function loadS3(): Promise<S3Module> {
  try {
    return await import('@aws-sdk/client-s3');
  } catch (error) {
    throw new InvalidArgumentError({
      source: 's3',
      message:
        'Backups to s3:// need the optional package @aws-sdk/client-s3: install it (npm install @aws-sdk/client-s3) next to engram.',
      cause: error,
    });
  }
}

function s3Error(error: unknown, action: string): AdapterCallError {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return new AdapterCallError({
    source: 's3',
    message: `S3 ${action} failed: ${(error as Error).message}. Check ENGRAM_S3_ENDPOINT, the region and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).`,
    cause: error,
    isRetryable: status === undefined || status === 429 || status >= 500,
  });
}

/**
 * An S3 client from the environment: `ENGRAM_S3_ENDPOINT` (any S3-compatible server),
 * `ENGRAM_S3_REGION` (else `AWS_REGION`, else `us-east-1`), `ENGRAM_S3_FORCE_PATH_STYLE`
 * (default true when an endpoint is set), credentials from `ENGRAM_S3_ACCESS_KEY_ID` and
 * `ENGRAM_S3_SECRET_ACCESS_KEY`, else the AWS SDK's usual chain (`AWS_ACCESS_KEY_ID`, profiles, roles).
 */
async function s3Client(env: BackupEnvironment) {
  const s3 = await loadS3();
  const endpoint = env.ENGRAM_S3_ENDPOINT?.trim() || undefined;
  const pathStyle = env.ENGRAM_S3_FORCE_PATH_STYLE?.trim().toLowerCase();
  const accessKeyId = env.ENGRAM_S3_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.ENGRAM_S3_SECRET_ACCESS_KEY?.trim();
  const client = new s3.S3Client({
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    region: env.ENGRAM_S3_REGION?.trim() || env.AWS_REGION?.trim() || 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true',
  });
  return { s3, client };
}

function s3Target(
  connection: Promise<Awaited<ReturnType<typeof s3Client>>>,
  { bucket, prefix }: S3Location,
): BackupTarget {
  const location = `s3://${joinKey(bucket, prefix)}`;
  return {
    location,
    async write(name, data, abortSignal) {
      const { s3, client } = await connection;
      try {
        await client.send(
          new s3.PutObjectCommand({ Bucket: bucket, Key: joinKey(prefix, name), Body: data }),
          abortSignal ? { abortSignal } : {},
        );
      } catch (error) {
        throw s3Error(error, `writing ${location}/${name}`);
      }
    },
    async read(name, abortSignal) {
      const { s3, client } = await connection;
      try {
        const response = await client.send(
          new s3.GetObjectCommand({ Bucket: bucket, Key: joinKey(prefix, name) }),
          abortSignal ? { abortSignal } : {},
        );
        return await response.Body!.transformToByteArray();
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') {
          throw new NotFoundError({
            source: 's3',
            message: `${location}/${name} does not exist: is ${location} a backup written by engram backup?`,
            cause: error,
          });
        }
        throw s3Error(error, `reading ${location}/${name}`);
      }
    },
  };
}

function s3Storage(env: BackupEnvironment, location: S3Location): BackupStorage {
  const connection = s3Client(env);
  // A failed connection is reported by the first call that needs it.
  connection.catch(() => {});
  const root = `s3://${joinKey(location.bucket, location.prefix)}`;
  const keysUnder = async (prefix: string, delimiter?: string) => {
    const { s3, client } = await connection;
    const keys: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await client
        .send(
          new s3.ListObjectsV2Command({
            Bucket: location.bucket,
            Prefix: prefix,
            ...(delimiter ? { Delimiter: delimiter } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        )
        .catch((error: unknown) => {
          throw s3Error(error, `listing ${root}`);
        });
      for (const entry of page.Contents ?? []) if (entry.Key) keys.push(entry.Key);
      for (const entry of page.CommonPrefixes ?? []) if (entry.Prefix) prefixes.push(entry.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { keys, prefixes };
  };
  const base = location.prefix ? `${location.prefix}/` : '';
  return {
    location: root,
    target: (name) =>
      s3Target(connection, { bucket: location.bucket, prefix: joinKey(location.prefix, name) }),
    async list() {
      const { keys } = await keysUnder(base);
      const names = keys
        .filter((key) => key.endsWith('/manifest.json'))
        .map((key) => key.slice(base.length, -'/manifest.json'.length))
        .filter((name) => name.length > 0 && !name.includes('/'));
      return names.sort();
    },
    async remove(name) {
      const { s3, client } = await connection;
      const { keys } = await keysUnder(`${base}${name}/`);
      for (let start = 0; start < keys.length; start += 1000) {
        await client
          .send(
            new s3.DeleteObjectsCommand({
              Bucket: location.bucket,
              Delete: { Objects: keys.slice(start, start + 1000).map((Key) => ({ Key })) },
            }),
          )
          .catch((error: unknown) => {
            throw s3Error(error, `deleting ${root}/${name}`);
          });
      }
    },
  };
}

function directoryStorage(directory: string): BackupStorage {
  return {
    location: directory,
    target: (name) => createDirectoryBackupTarget(join(directory, name)),
    async list() {
      const entries = await fs.readdir(directory, { withFileTypes: true }).catch(() => []);
      const names: string[] = [];
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const manifest = join(directory, entry.name, 'manifest.json');
        if (
          await fs.stat(manifest).then(
            () => true,
            () => false,
          )
        )
          names.push(entry.name);
      }
      return names.sort();
    },
    async remove(name) {
      await fs.rm(join(directory, name), { recursive: true, force: true });
    },
  };
}

/** Where backups are kept: `s3://bucket/prefix` (S3-compatible object storage) or a directory. */
export function openBackupStorage(location: string, env: BackupEnvironment = {}): BackupStorage {
  const s3 = parseS3(location);
  return s3 ? s3Storage(env, s3) : directoryStorage(resolve(location));
}

/** The target of one backup: `s3://bucket/prefix` or a directory (`--to`, `--from`). */
export function openBackupTarget(location: string, env: BackupEnvironment = {}): BackupTarget {
  const s3 = parseS3(location);
  if (!s3) return createDirectoryBackupTarget(resolve(location));
  const connection = s3Client(env);
  connection.catch(() => {});
  return s3Target(connection, s3);
}

/**
 * The events kept in the history archives at a location (a directory or `s3://bucket/prefix`
 * holding `until-*` archives), each archive checked against its checksums; with `memoryId`, only
 * that memory's. An event archived twice (a run repeated after a crash) is answered once.
 */
export async function readArchivedHistory(
  location: string,
  env: BackupEnvironment = {},
  filter: { memoryId?: string } = {},
): Promise<HistoryEvent[]> {
  const storage = openBackupStorage(location, env);
  const names = (await storage.list()).filter((name) => name.startsWith('until-'));
  if (names.length === 0) {
    throw new NotFoundError({
      source: 'history',
      message: `${storage.location} holds no history archives (until-* folders with a manifest.json): name the project's folder under ENGRAM_HISTORY_ARCHIVE_TO.`,
    });
  }
  const events = new Map<string, HistoryEvent>();
  for (const name of names) {
    for await (const event of readHistoryArchive(storage.target(name))) {
      if (filter.memoryId === undefined || event.memoryId === filter.memoryId) {
        events.set(event.id, event);
      }
    }
  }
  return [...events.values()];
}
