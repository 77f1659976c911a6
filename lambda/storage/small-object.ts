/**
 * Storage layer: a small JSON object of its own beside the data object (the
 * events publisher's position), read whole and replaced only where it is
 * still the one read: `If-Match` its ETag, or `If-None-Match: *` where there
 * was none. Two writers never overwrite each other unseen; the one that
 * loses is told so and reads again. It never touches the data object.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { StorageUnreadableError } from "../errors.ts";
import type { ObjectEncryption } from "./encryption.ts";
import { isNoSuchBucket, isNoSuchKey, isWriteConflict } from "./s3-errors.ts";

export interface SmallObjectTarget {
  bucket: string;
  key: string;
}

/** What the object held when read (undefined: no object) and the ETag a replacement must name. */
export interface SmallObjectRead {
  value: unknown;
  etag: string | null;
}

export async function readSmallObject(
  s3: S3Client,
  target: SmallObjectTarget,
): Promise<SmallObjectRead> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: target.key }));
    const text = (await object.Body?.transformToString("utf-8")) ?? "";
    try {
      return { value: JSON.parse(text) as unknown, etag: object.ETag ?? null };
    } catch (error) {
      throw new StorageUnreadableError(
        `s3://${target.bucket}/${target.key} n'est pas un document JSON ; l'objet n'a pas été modifié`,
        { cause: error },
      );
    }
  } catch (error) {
    // No bucket yet (a first start, before any write) holds no object either.
    if (isNoSuchKey(error) || isNoSuchBucket(error)) return { value: undefined, etag: null };
    throw error;
  }
}

/**
 * Replaces the object with `value` if it is still the one read (`etag`);
 * "conflict" when another writer replaced (or removed) it meanwhile.
 */
export async function replaceSmallObject(
  s3: S3Client,
  target: SmallObjectTarget,
  value: unknown,
  etag: string | null,
  encryption: ObjectEncryption,
): Promise<"saved" | "conflict"> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        Body: JSON.stringify(value),
        ContentType: "application/json",
        ...encryption,
        ...(etag === null ? { IfNoneMatch: "*" } : { IfMatch: etag }),
      }),
    );
    return "saved";
  } catch (error) {
    // An If-Match on an object since deleted answers 404.
    if (isWriteConflict(error) || (etag !== null && isNoSuchKey(error))) return "conflict";
    throw error;
  }
}
