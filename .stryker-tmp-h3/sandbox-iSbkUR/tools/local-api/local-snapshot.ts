/**
 * Local tools: the copy on disk of what `npm start`'s local S3 server holds.
 * The server keeps everything in memory; this copy is what survives a stop.
 * It is written as the data changes (after every write request, before the
 * answer goes out), not only at exit, so that no way of stopping — Ctrl-C, a
 * closed terminal, a supervisor's SIGTERM, a crash — loses an answered write.
 */
// @ts-nocheck

import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isNoSuchBucket, isNoSuchKey, isNotModified } from "../../lambda/storage/s3-errors.ts";

export interface SnapshotLocation {
  bucket: string;
  key: string;
}

export class LocalSnapshot {
  /** ETag of the object as last written to disk (or restored from it). */
  private savedEtag: string | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  private readonly s3: S3Client;
  private readonly location: SnapshotLocation;
  /** The file on disk, e.g. `.local/rapatriements.db`. */
  readonly file: string;

  constructor(s3: S3Client, location: SnapshotLocation, file: string) {
    this.s3 = s3;
    this.location = location;
    this.file = file;
  }

  /** The bytes saved on disk, or undefined when nothing was saved yet. */
  async read(): Promise<Uint8Array | undefined> {
    return readFile(this.file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
  }

  /** Puts the saved bytes back into the local S3 server. */
  async restore(bytes: Uint8Array): Promise<void> {
    const put = await this.s3.send(
      new PutObjectCommand({
        Bucket: this.location.bucket,
        Key: this.location.key,
        Body: bytes,
        ServerSideEncryption: "AES256",
      }),
    );
    this.savedEtag = put.ETag;
  }

  /**
   * Resolves once a save that began after this call has finished, so the
   * caller's write is on disk. Saves run one at a time; calls made while one
   * runs share the next. Rejects when the save failed.
   */
  save(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    if (this.running === undefined) return this.start();
    const next = this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    this.queued = next;
    return next;
  }

  private start(): Promise<void> {
    const run = this.saveOnce().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async saveOnce(): Promise<void> {
    let bytes: Uint8Array | undefined;
    let etag: string | undefined;
    try {
      const object = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.location.bucket,
          Key: this.location.key,
          IfNoneMatch: this.savedEtag,
        }),
      );
      bytes = await object.Body?.transformToByteArray();
      etag = object.ETag;
    } catch (error) {
      // 304: unchanged since the last save. No key or bucket: nothing written yet.
      if (isNotModified(error) || isNoSuchKey(error) || isNoSuchBucket(error)) return;
      throw error;
    }
    if (bytes === undefined) return;
    await writeDurably(this.file, bytes);
    this.savedEtag = etag;
  }
}

/** Writes beside the file, flushes to disk, then renames: a stop mid-write leaves the old copy whole. */
async function writeDurably(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}
