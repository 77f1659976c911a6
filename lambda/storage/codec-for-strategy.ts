/** Storage layer: the codec for each `STORAGE_STRATEGY`. */
import type { StorageStrategy } from "../config.ts";
import type { FileCodec } from "./file-codec.ts";
import { jsonCodec } from "./json-codec.ts";
import { sqliteCodec } from "./sqlite-codec.ts";

export function codecFor(strategy: StorageStrategy): FileCodec {
  return strategy === "json" ? jsonCodec : sqliteCodec;
}
