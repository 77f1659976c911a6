/**
 * The first load skips SQLite's full integrity check only for bytes proven to
 * be the engine's own: S3's full-object CRC32 (against which the SDK checks
 * what arrived) agrees with the metadata the engine wrote, and S3 sent no
 * other checksum that the SDK would have checked instead. Anything else — a hand
 * upload, a copy of the engine's metadata on other bytes, bytes that do not
 * match S3's checksum — is checked, refused when corrupt, and never
 * overwritten. Against the real S3 API of the local server.
 */
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import { StorageBusyError, StorageUnreadableError } from "../../../lambda/errors.ts";
import { codecFor } from "../../../lambda/storage/codec-for-strategy.ts";
import type { DecodeOptions, FileCodec } from "../../../lambda/storage/file-codec.ts";
import {
  crc32Base64,
  getObject,
  WRITTEN_CRC32_METADATA,
} from "../../../lambda/storage/object-fetch.ts";
import { loadSqlJs } from "../../../lambda/storage/sql-js.ts";
import { faultyClient } from "../../support/faults.ts";
import {
  etagOf,
  getBytes,
  localS3Client,
  newEngine,
  newTarget,
  REGION,
  recordRequests,
  sampleInput,
  type Target,
} from "../../support/local-s3.ts";

/** The sqlite codec, noting whether each decode was told the bytes are the engine's own. */
function spiedCodec(): { codec: FileCodec; verified: (boolean | undefined)[] } {
  const verified: (boolean | undefined)[] = [];
  const inner = codecFor("sqlite");
  return {
    verified,
    codec: {
      ...inner,
      decode(bytes, SQL, schema, options?: DecodeOptions) {
        verified.push(options?.verified);
        return inner.decode(bytes, SQL, schema, options);
      },
    },
  };
}

/** A copy of a SQLite file whose last page's b-tree header is overwritten: only a full check sees it. */
function corruptLastPage(file: Uint8Array): Uint8Array {
  const bytes = file.slice();
  const pageSize = ((bytes[16] ?? 0) << 8) | (bytes[17] ?? 0) || 65536;
  const last = bytes.length - pageSize;
  bytes.fill(0xa5, last, last + 64);
  return bytes;
}

/**
 * A copy of a SQLite file whose index `rapatriements_by_destination` has its
 * root page's type overwritten: a plain list reads the table, never this page.
 */
async function damageIndexPage(file: Uint8Array): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(file);
  const root = Number(
    db.exec("SELECT rootpage FROM sqlite_master WHERE name = 'rapatriements_by_destination'")[0]
      ?.values[0]?.[0],
  );
  const pageSize = Number(db.exec("PRAGMA page_size")[0]?.values[0]?.[0]);
  db.close();
  const damaged = file.slice();
  damaged[(root - 1) * pageSize] = 0xff;
  return damaged;
}

async function putByHand(target: Target, body: Uint8Array, metadata?: Record<string, string>) {
  const put = await localS3Client().send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      Body: body,
      ...(metadata === undefined ? {} : { Metadata: metadata }),
    }),
  );
  return put.ETag;
}

const CORRUPT = "le fichier SQLite est corrompu (PRAGMA quick_check) ; l'objet n'a pas été modifié";

/** Refused as unreadable by a fresh engine, for a read and for a write, and left as it is. */
async function expectRefusedAndKept(target: Target, label: string) {
  const etag = await etagOf(target);
  const { service, s3 } = await newEngine(target);
  const requests = recordRequests(s3);
  await expect(service.list({}), label).rejects.toBeInstanceOf(StorageUnreadableError);
  await expect(service.list({}), label).rejects.toMatchObject({
    message: CORRUPT,
    // What SQLite found, for the log: the operator's first clue.
    cause: expect.objectContaining({ message: expect.any(String) }),
  });
  await expect(service.create(sampleInput("x")), label).rejects.toMatchObject({
    code: "STORAGE_UNREADABLE",
  });
  expect(await etagOf(target), label).toBe(etag);
  expect(
    requests.filter((r) => r.command === "PutObject"),
    label,
  ).toEqual([]);
}

describe("the integrity check of the first load", () => {
  test("every PUT of the engine carries its CRC32 as S3's full-object checksum and as metadata", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));

    const object = await localS3Client().send(
      new GetObjectCommand({ Bucket: target.bucket, Key: target.key, ChecksumMode: "ENABLED" }),
    );
    const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    expect(object.ChecksumCRC32).toBe(crc32Base64(bytes));
    expect(object.Metadata?.[WRITTEN_CRC32_METADATA]).toBe(crc32Base64(bytes));
  });

  test("an object the engine wrote opens without the full check; a hand-uploaded copy of the same bytes gets it", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));

    const ours = spiedCodec();
    const { service } = await newEngine(target, { codec: ours.codec });
    expect((await service.list({})).items).toHaveLength(1);
    expect(ours.verified).toEqual([true]);

    await putByHand(target, await getBytes(target));
    const handUploaded = spiedCodec();
    const again = await newEngine(target, { codec: handUploaded.codec });
    expect((await again.service.list({})).items).toHaveLength(1);
    expect(handUploaded.verified).toEqual([false]);
  });

  test("a corrupt file uploaded by hand is checked, refused and never overwritten", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    await putByHand(target, corruptLastPage(await getBytes(target)));

    await expectRefusedAndKept(target, "hand-uploaded corrupt file");
  });

  test("the engine's metadata copied onto other bytes proves nothing: the file is checked and refused", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    const object = await localS3Client().send(
      new GetObjectCommand({ Bucket: target.bucket, Key: target.key }),
    );
    const metadata = object.Metadata ?? {};
    expect(metadata[WRITTEN_CRC32_METADATA]).toBeDefined();
    const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    await putByHand(target, corruptLastPage(bytes), metadata);

    await expectRefusedAndKept(target, "corrupt bytes under the engine's metadata");
  });

  test("bytes that do not match S3's stored checksum are refused before they are opened (busy: try again), and kept", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    const good = await getBytes(target);
    const corrupt = corruptLastPage(good);
    // The local server stores the checksum it is given (S3 would refuse the
    // upload): this stands for bytes damaged after S3 checked them.
    await localS3Client().send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        Body: corrupt,
        ChecksumAlgorithm: "CRC32",
        ChecksumCRC32: crc32Base64(good),
        Metadata: { [WRITTEN_CRC32_METADATA]: crc32Base64(good) },
      }),
    );
    const etag = await etagOf(target);
    const ours = spiedCodec();
    const { service, s3 } = await newEngine(target, { codec: ours.codec });
    const requests = recordRequests(s3);

    // A damaged download: nothing was applied, and trying again downloads it again.
    const refused = await service.create(sampleInput(2)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StorageBusyError);
    expect(String((refused as Error).cause)).toMatch(/checksum mismatch/i);
    expect(ours.verified).toEqual([]);
    expect(await etagOf(target)).toBe(etag);
    expect(requests.filter((r) => r.command === "PutObject")).toEqual([]);
  });

  test("the engine's metadata on bytes S3 keeps under another checksum proves nothing: checked and refused", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    const good = await getBytes(target);
    await localS3Client().send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        Body: corruptLastPage(good),
        ChecksumAlgorithm: "SHA256",
        Metadata: { [WRITTEN_CRC32_METADATA]: crc32Base64(good) },
      }),
    );

    await expectRefusedAndKept(target, "corrupt bytes under a SHA-256 and the engine's metadata");
  });

  test("a CRC32 that comes with another checksum is not proof: the SDK would have checked the other one", async () => {
    // S3 keeps one checksum per object; a response with two stands for a
    // server or proxy the SDK does not check the CRC32 of.
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    const { client, mock, real } = faultyClient();
    const withExtra = (extra: Record<string, string>) =>
      mock.on(GetObjectCommand).callsFake(async (input) => ({
        ...(await real.send(new GetObjectCommand(input))),
        ...extra,
      }));

    withExtra({});
    expect((await getObject(client, target, undefined)).verified).toBe(true);
    // S3 names the CRC32's kind: a full-object one is the proof; a multipart
    // upload's composite one (a checksum of the parts' checksums) never is.
    withExtra({ ChecksumType: "FULL_OBJECT" });
    expect((await getObject(client, target, undefined)).verified, "FULL_OBJECT").toBe(true);
    withExtra({ ChecksumType: "COMPOSITE" });
    expect((await getObject(client, target, undefined)).verified, "COMPOSITE").toBe(false);
    // A field the response names but leaves empty is no other checksum.
    withExtra({ ChecksumSHA256: undefined } as unknown as Record<string, string>);
    expect((await getObject(client, target, undefined)).verified, "empty field").toBe(true);
    for (const field of [
      "ChecksumCRC32C",
      "ChecksumCRC64NVME",
      "ChecksumSHA256",
      "ChecksumXXHASH64",
    ]) {
      withExtra({ [field]: "AAAAAA==" });
      expect((await getObject(client, target, undefined)).verified, field).toBe(false);
    }
  });

  test("damage the first request would never read is still found: the full check reads every page", async () => {
    const target = await newTarget("sqlite");
    const { service } = await newEngine(target);
    for (let n = 1; n <= 3; n += 1) await service.create(sampleInput(n));
    await putByHand(target, await damageIndexPage(await getBytes(target)));

    // Without the full check this list would be answered from the intact table.
    await expectRefusedAndKept(target, "an index page damaged by hand");
  });

  test("a file uploaded with no checksum at all, as older tools do, gets the full check", async () => {
    const target = await newTarget("sqlite");
    const { service } = await newEngine(target);
    for (let n = 1; n <= 3; n += 1) await service.create(sampleInput(n));
    const good = await getBytes(target);
    // No checksum asked of the SDK: S3 keeps none, and the GET carries none.
    const plain = localS3Client(REGION, { requestChecksumCalculation: "WHEN_REQUIRED" });
    const upload = (body: Uint8Array) =>
      plain.send(new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: body }));

    await upload(good);
    const fetched = await getObject(localS3Client(), target, undefined);
    expect(fetched.verified).toBe(false);
    const spied = spiedCodec();
    const { service: reader } = await newEngine(target, { codec: spied.codec });
    expect((await reader.list({})).items).toHaveLength(3);
    expect(spied.verified).toEqual([false]);

    await upload(await damageIndexPage(good));
    await expectRefusedAndKept(target, "an index page damaged, uploaded with no checksum");
  });
});
