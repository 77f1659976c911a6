/**
 * The `json` format stays what it was: a document written by the earlier
 * encoder (JSON.stringify row by row, kept byte for byte in
 * test/fixtures/json) loads, and what the encoder writes now — SQLite's
 * json_object, one row per line — is the same document to any JSON reader;
 * receipts alone, many and small, are a compact table (column names once,
 * then one array per line). Against the real S3 API of the local server.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { rapatriementsSchema } from "../../../lambda/rapatriements/tables.ts";
import { currentVersion } from "../../../lambda/storage/migrations.ts";
import { getBytes, newEngine, newTarget, putBytes } from "../../support/local-s3.ts";

const FIXTURE = new URL("../../fixtures/json/written-before-sql-codec.json", import.meta.url);

type Compact = { columns: string[]; rows: unknown[][] };
type Document = {
  tables: Record<string, Record<string, unknown>[]> & { receipts?: Compact; outbox?: Compact };
} & Record<string, unknown>;

const RECEIPT_COLUMNS = ["key_hash", "fingerprint", "record_seq", "version", "expires_minute"];

function parse(bytes: Uint8Array): Document {
  return JSON.parse(new TextDecoder().decode(bytes)) as Document;
}

describe("the json format", () => {
  test("a document written by the earlier encoder loads, and is written back as the same document", async () => {
    const target = await newTarget("json");
    const earlier = new Uint8Array(readFileSync(FIXTURE));
    await putBytes(target, earlier);
    const { service } = await newEngine(target);

    const record = await service.get("r-1");
    expect(record).toMatchObject({
      reference: "REF-1",
      comment: 'Retour « urgent » : 3" de \\ neige\nligne 2 é中😀 \u0001',
      lines: [
        { sku: "SKU-1", quantity: 2.5, unit: "carton" },
        { sku: "SKU-2", quantity: 0.1 },
      ],
    });
    expect((await service.get("r-2")).lines).toEqual([{ sku: "S", quantity: 1e21 }]);

    await service.update("r-2", { comment: "ajouté" });
    const written = parse(await getBytes(target));
    const before = parse(earlier);
    // Every row of the earlier document is there, unchanged, but the one updated;
    // its receipt and commit id, months old, expired with this save, which
    // says when it last looked for expired receipts.
    expect(written.tables.rapatriement_lines).toEqual(before.tables.rapatriement_lines);
    // The update's event took the outbox's first position.
    const counters = [
      ...(before.tables.counters ?? []),
      { name: "outbox.seq", value: 1 },
      { name: "receipts.pruned_minute", value: expect.any(Number) },
    ].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(written.tables.counters).toEqual(counters);
    // Schema 4 added who created and who changed a record: unknown (null) for older rows.
    expect(written.tables.rapatriements?.[0]).toEqual({
      ...before.tables.rapatriements?.[0],
      created_by: null,
      updated_by: null,
    });
    expect(written.tables.rapatriements?.[1]).toMatchObject({ comment: "ajouté", version: 2 });
    expect(written.tables.receipts).toEqual({ columns: RECEIPT_COLUMNS, rows: [] });
    expect(written.tables.storage_commits?.map((c) => c.id)).not.toContain("commit-1");
    expect(written.tables.actors).toEqual([]);
    expect({ ...written, tables: undefined }).toEqual({
      ...before,
      schemaVersion: currentVersion(rapatriementsSchema),
      tables: undefined,
    });
  });

  test("the document keeps one row per line, and every value reads back exactly", async () => {
    const target = await newTarget("json");
    const { service } = await newEngine(target);
    const body = {
      reference: "R-1",
      origin: "A",
      destination: "B",
      comment: 'tab\there, quote " backslash \\ and 🚚',
      lines: [
        { sku: "x", quantity: 0.30000000000000004 },
        { sku: "y", quantity: 123456789012 },
      ],
    };
    const created = await service.create(body, { idempotencyKey: "k-1", actor: "alice" });
    await service.create({ ...body, reference: "R-2" }, { idempotencyKey: "k-2" });

    const text = new TextDecoder().decode(await getBytes(target));
    const document = JSON.parse(text) as Document;
    const { receipts, outbox, ...tables } = document.tables;
    // After the header line, each row is a line of its own: an object, or an
    // array in the compact tables (the outbox, the receipts).
    const lines = (start: string) =>
      text
        .split("\n")
        .slice(1)
        .filter((line) => line.startsWith(start))
        .map((line) => JSON.parse(line.replace(/,$/, "")) as unknown);
    expect(lines("{")).toEqual(Object.values(tables).flat());
    expect(receipts?.columns).toEqual(RECEIPT_COLUMNS);
    expect(receipts?.rows).toHaveLength(2);
    expect(outbox?.rows).toHaveLength(2);
    expect(lines("[")).toEqual([...(outbox?.rows ?? []), ...(receipts?.rows ?? [])]);
    // Hashes of 53 bits and fingerprints of 48 read back exactly as numbers.
    for (const row of receipts?.rows ?? []) {
      expect(row.every((value) => Number.isSafeInteger(value))).toBe(true);
    }
    expect(
      document.tables.rapatriement_lines
        ?.filter((l) => l.rapatriement_id === created.id)
        .map((l) => l.quantity),
    ).toEqual([0.30000000000000004, 123456789012]);
    expect(document.tables.rapatriements?.[0]?.comment).toBe(
      'tab\there, quote " backslash \\ and 🚚',
    );
  });
});
