/**
 * Local tools: the line on which each element of a JSON list starts, so that
 * a bad record of a hand-written file is named by its line. JSON.parse keeps
 * no positions; this scan follows strings and nesting only.
 */
// @ts-nocheck


/**
 * Lines (from 1) of the elements of the top-level array, or of the array
 * under `key` of the top-level object. Empty when the text has another shape.
 */
export function jsonElementLines(text: string, key: string | undefined): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let lastString = "";
  let listDepth = key === undefined ? 1 : -1; // depth inside the list, once found
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') {
        inString = false;
        lastString = text.slice(stringStart + 1, i);
      }
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\n") continue;
    if (depth === listDepth && expectValue && c !== "]") {
      lines.push(line);
      expectValue = false;
    }
    if (c === '"') {
      inString = true;
      stringStart = i;
    } else if (c === "[" || c === "{") {
      depth++;
      if (
        c === "[" &&
        (depth === listDepth || (depth === 2 && lastString === key && listDepth < 0))
      ) {
        listDepth = depth;
        expectValue = true;
      }
    } else if (c === "]" || c === "}") {
      if (depth === listDepth && c === "]") return lines;
      depth--;
    } else if (c === "," && depth === listDepth) {
      expectValue = true;
    }
  }
  return lines;
}
