/**
 * Local tools: the API reference served by `npm start`. `GET /openapi.yaml`
 * is docs/openapi.yaml as it is in the repository; `GET /docs` renders it in
 * the browser with Swagger UI, served from its npm package (swagger-ui-dist):
 * the page loads nothing from the network. The page reads the same document
 * with this server as its first server, so that "Try it out" reaches this
 * npm start whatever its port.
 */
// @ts-nocheck

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../local-s3/local-s3.ts";

const OPENAPI_FILE = join(PROJECT_ROOT, "docs", "openapi.yaml");
const SWAGGER_UI_DIR = dirname(
  createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"),
);

/** The files of the page, by the path they are served at. */
const ASSETS: Record<string, { file: string; type: string }> = {
  "/docs/swagger-ui.css": { file: "swagger-ui.css", type: "text/css; charset=utf-8" },
  "/docs/swagger-ui-bundle.js": {
    file: "swagger-ui-bundle.js",
    type: "text/javascript; charset=utf-8",
  },
  "/docs/favicon-32x32.png": { file: "favicon-32x32.png", type: "image/png" },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Rapatriements API — reference</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null, or Swagger UI sends the document to its online validator.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/docs/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  docExpansion: "list",
});
`;

/** The answer for a reference path, or undefined when `path` is not one. */
export async function apiReference(
  method: string,
  path: string,
  /** This server's origin, e.g. http://127.0.0.1:3001. */
  origin: string,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
  if (method !== "GET" && method !== "HEAD") return undefined;
  if (path === "/docs/openapi.json") {
    const document = parse(await readFile(OPENAPI_FILE, "utf8")) as { servers?: unknown[] };
    const here = { url: origin, description: "this npm start" };
    document.servers = [here, ...(document.servers ?? [])].filter(
      (server, i) => i === 0 || (server as { url?: string }).url !== origin,
    );
    return text(JSON.stringify(document), "application/json");
  }
  if (path === "/docs" || path === "/docs/") return text(PAGE, "text/html; charset=utf-8");
  if (path === "/docs/init.js") return text(INIT, "text/javascript; charset=utf-8");
  if (path === "/openapi.yaml") {
    return text(await readFile(OPENAPI_FILE, "utf8"), "application/yaml; charset=utf-8");
  }
  const asset = ASSETS[path];
  if (asset === undefined) return undefined;
  const bytes = await readFile(join(SWAGGER_UI_DIR, asset.file));
  return {
    statusCode: 200,
    headers: { "content-type": asset.type, "cache-control": "no-cache" },
    body: bytes.toString("base64"),
    isBase64Encoded: true,
  };
}

function text(body: string, type: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode: 200, headers: { "content-type": type, "cache-control": "no-cache" }, body };
}
