/** Infrastructure: the project's root, from which entries and the lockfile are found. */
// @ts-nocheck

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
