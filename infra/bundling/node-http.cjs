// Bundling: `node:http` as CommonJS. An ESM `import … from "node:http"` makes
// Node build the module's ESM facade, which reads every export, lazy getters
// included (WebSocket, …): that loads undici, tens of milliseconds of every
// cold start for nothing the product uses. A require reads none of them.
// biome-ignore lint/style/useNodejsImportProtocol: the bundling aliases "node:http" to this very file.
module.exports = require("http");
