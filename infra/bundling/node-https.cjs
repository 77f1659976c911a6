// Bundling: `node:https` as CommonJS, for the reason node-http.cjs gives.
// biome-ignore lint/style/useNodejsImportProtocol: the bundling aliases "node:https" to this very file.
module.exports = require("https");
