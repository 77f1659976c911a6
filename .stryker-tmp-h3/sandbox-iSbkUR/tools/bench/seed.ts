/**
 * Benchmarks: a data object of N rapatriements, built in memory and uploaded
 * in one PUT, so that large sizes take seconds rather than N requests.
 */
// @ts-nocheck


import type { Rapatriement } from "../../lambda/rapatriements/model.ts";
import { STATUSES } from "../../lambda/rapatriements/model.ts";
import { insert } from "../../lambda/rapatriements/repository.ts";
import type { Database } from "../../lambda/storage/sql-js.ts";

/** Sites and SKUs cycle so that filters select about 1 record in 100. */
export function seedRecord(i: number): Rapatriement {
  return {
    id: `seed-${i}`,
    reference: `SEED-${i}`,
    origin: `SITE-${i % 20}`,
    destination: `DEPOT-${i % 7}`,
    status: STATUSES[i % STATUSES.length] ?? "draft",
    lines: [
      { sku: `SKU-${i % 500}`, quantity: 1 + (i % 9), unit: "carton" },
      { sku: `SKU-${(i + 1) % 500}`, quantity: 2 },
    ],
    comment: "retour de stock",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    version: 1,
    // A JWT `sub` as identity providers write them (36 characters), one of 50 planners.
    createdBy: `8a7b6c5d-4e3f-2a1b-0c9d-${String(i % 50).padStart(12, "0")}`,
    updatedBy: `8a7b6c5d-4e3f-2a1b-0c9d-${String(i % 50).padStart(12, "0")}`,
  };
}

export function seed(db: Database, records: number): void {
  db.run("BEGIN");
  for (let i = 0; i < records; i++) insert(db, seedRecord(i));
  db.run("COMMIT");
}
