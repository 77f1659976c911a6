/**
 * Storage layer: reading the data object, proving that its bytes are the ones
 * this engine wrote, and starting that read before it is asked for (in
 * Lambda's init phase, while sql.js compiles).
 *
 * The proof: every PUT of the engine sends the CRC32 of the bytes it encoded
 * as S3's full-object checksum (S3 refuses the upload if the bytes it got do
 * not match) and as user metadata. A GET asks for the checksum (ChecksumMode),
 * which makes the SDK compute the CRC32 of the downloaded bytes and fail the
 * GET when it differs from S3's (test/lambda/storage/object-checksum.test.ts
 * shows it against the local server). So the bytes are the engine's own when
 * S3's checksum is a full-object CRC32, the only checksum S3 sent (the SDK
 * checks one algorithm, the first it finds), and equal to the metadata: the
 * bytes are not summed a second time here, which would cost as much again on
 * every download (20–30 ms at 100,000 records). A file written by anything
 * else — an import, a hand upload, a copy with other bytes under the same
 * metadata — lacks that agreement and gets the format's full integrity check.
 */
import { crc32 } from "node:zlib";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { S3Target } from "./s3-errors.ts";

/** User metadata (`x-amz-meta-…`) on every object this engine writes: the CRC32 it computed. */
export const WRITTEN_CRC32_METADATA = "rapatriements-crc32";

/** CRC32 as S3 spells it: the 4 bytes, big-endian, in base64. */
export function crc32Base64(bytes: Uint8Array): string {
  const digest = Buffer.alloc(4);
  digest.writeUInt32BE(crc32(bytes));
  return digest.toString("base64");
}

/** What the engine's PutObject carries so that a later reader can prove the bytes are its own. */
export function writtenChecksum(bytes: Uint8Array) {
  const checksum = crc32Base64(bytes);
  return {
    ChecksumAlgorithm: "CRC32" as const,
    ChecksumCRC32: checksum,
    Metadata: { [WRITTEN_CRC32_METADATA]: checksum },
  };
}

/** S3 sent no checksum but the CRC32: another one is what the SDK would have checked instead. */
function onlyCrc32(response: object): boolean {
  return Object.entries(response).every(
    ([field, value]) =>
      !field.startsWith("Checksum") ||
      field === "ChecksumCRC32" ||
      field === "ChecksumType" ||
      value === undefined,
  );
}

export interface FetchedObject {
  $metadata: { httpStatusCode?: number };
  body: Uint8Array;
  etag: string | null;
  /** The bytes are the ones this engine wrote (see above). */
  verified: boolean;
}

/** GetObject, body included (a stalled download is a stalled call), checksum asked for. */
export async function getObject(
  s3: S3Client,
  target: Pick<S3Target, "bucket" | "key">,
  ifNoneMatch: string | undefined,
  abortSignal?: AbortSignal,
): Promise<FetchedObject> {
  const response = await s3.send(
    new GetObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      // Also makes the SDK check the download against S3's checksum, whatever the client's defaults.
      ChecksumMode: "ENABLED",
      ...(ifNoneMatch === undefined ? {} : { IfNoneMatch: ifNoneMatch }),
    }),
    abortSignal === undefined ? {} : { abortSignal },
  );
  // Stryker disable next-line OptionalChaining: the SDK gives every answered GET a Body (an empty object's too)
  const body = (await response.Body?.transformToByteArray()) ?? new Uint8Array();
  // Stryker disable next-line OptionalChaining: the SDK gives every answered GET a Metadata map, empty when S3 sent none
  const written = response.Metadata?.[WRITTEN_CRC32_METADATA];
  const verified =
    written !== undefined &&
    response.ChecksumType !== "COMPOSITE" &&
    response.ChecksumCRC32 === written &&
    onlyCrc32(response);
  return { $metadata: response.$metadata, body, etag: response.ETag ?? null, verified };
}

/** A read of the object started ahead of time; it never rejects, so nothing is left unhandled. */
export interface Prefetch {
  /** Epoch ms when the GET was sent: the copy is at least this recent. */
  startedAt: number;
  outcome: Promise<{ ok: true; object: FetchedObject } | { ok: false; error: unknown }>;
}

export function prefetchObject(
  s3: S3Client,
  target: Pick<S3Target, "bucket" | "key">,
  now: () => number = Date.now,
): Prefetch {
  const startedAt = now();
  return {
    startedAt,
    outcome: getObject(s3, target, undefined).then(
      (object) => ({ ok: true, object }) as const,
      (error: unknown) => ({ ok: false, error }) as const,
    ),
  };
}
