/**
 * The README's two ways to call the deployed API with IAM authorization —
 * `curl --aws-sigv4` and tools/api-client/signed-request.ts (the AWS SDK's
 * signer) — send requests whose Signature Version 4 is the one an independent
 * implementation (botocore, in the local S3 server's virtualenv) computes for
 * them, as API Gateway would check it.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { requireProgram } from "../support/programs.ts";

const run = promisify(execFile);
const PYTHON = join(PROJECT_ROOT, ".venv", "bin", "python");
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  AWS_SESSION_TOKEN: "session-token-example",
  AWS_REGION: "eu-west-1",
};

interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const captured: Captured[] = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    captured.push({
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    });
    response.writeHead(200, { "content-type": "application/json" }).end('{"items":[]}');
  });
});
let base: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** What botocore's SigV4 signer computes for the captured request, signed headers as sent. */
const VERIFY = `
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
r = json.load(sys.stdin)
signed = r["headers"]["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
headers = {name: r["headers"][name] for name in signed}
request = AWSRequest(method=r["method"], url="http://" + r["headers"]["host"] + r["url"],
                     data=r["body"].encode(), headers=headers)
auth = SigV4Auth(Credentials(r["key"], r["secret"], r["token"]), "execute-api", r["region"])
request.context["timestamp"] = r["headers"]["x-amz-date"]
auth._modify_request_before_signing(request)
canonical = auth.canonical_request(request)
print(auth.signature(auth.string_to_sign(request, canonical), request))
`;

function expectedSignature(request: Captured): string {
  const verified = spawnSync(PYTHON, ["-c", VERIFY], {
    encoding: "utf8",
    input: JSON.stringify({
      ...request,
      key: CREDENTIALS.AWS_ACCESS_KEY_ID,
      secret: CREDENTIALS.AWS_SECRET_ACCESS_KEY,
      token: CREDENTIALS.AWS_SESSION_TOKEN,
      region: CREDENTIALS.AWS_REGION,
    }),
  });
  expect(verified.stderr).toBe("");
  expect(verified.status).toBe(0);
  return verified.stdout.trim();
}

function signatureOf(request: Captured): string {
  return /Signature=([0-9a-f]{64})$/.exec(String(request.headers.authorization))?.[1] ?? "";
}

const BODY =
  '{"reference":"RAP-SIGNED-1","origin":"LYON-01","destination":"PARIS-02","lines":[{"sku":"PAL-EUR","quantity":1}]}';

describe("signed requests for the deployed API (IAM auth)", () => {
  test("tools/api-client/signed-request.ts signs with the AWS SDK's signer, for execute-api in the region", async () => {
    captured.length = 0;
    const { stdout } = await run(
      process.execPath,
      ["tools/api-client/signed-request.ts", "POST", `${base}/rapatriements?b=2&a=1`, BODY],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...CREDENTIALS } },
    );
    expect(stdout).toContain("200 OK");
    const [request] = captured;
    if (request === undefined) throw new Error("no request reached the server");
    expect(request.body).toBe(BODY);
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(request.headers["x-amz-security-token"]).toBe(CREDENTIALS.AWS_SESSION_TOKEN);
    // The signed payload hash is the body's.
    expect(request.headers["x-amz-content-sha256"]).toBe(
      createHash("sha256").update(BODY).digest("hex"),
    );
    expect(signatureOf(request)).toBe(expectedSignature(request));
  });

  test("curl --aws-sigv4, as the README writes it, signs the same way", async () => {
    requireProgram("curl", "this test runs the README's curl --aws-sigv4 command as written");
    captured.length = 0;
    await run(
      "curl",
      [
        "-s",
        "--aws-sigv4",
        `aws:amz:${CREDENTIALS.AWS_REGION}:execute-api`,
        "--user",
        `${CREDENTIALS.AWS_ACCESS_KEY_ID}:${CREDENTIALS.AWS_SECRET_ACCESS_KEY}`,
        "-H",
        `x-amz-security-token: ${CREDENTIALS.AWS_SESSION_TOKEN}`,
        "-H",
        "content-type: application/json",
        "-d",
        BODY,
        `${base}/rapatriements`,
      ],
      { cwd: PROJECT_ROOT },
    );
    const [request] = captured;
    if (request === undefined) throw new Error("no request reached the server");
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=.*x-amz-security-token.*, Signature=[0-9a-f]{64}$/,
    );
    expect(signatureOf(request)).toBe(expectedSignature(request));
  });

  test("a tampered request no longer matches the signature (the check is a real one)", async () => {
    captured.length = 0;
    await run(
      process.execPath,
      ["tools/api-client/signed-request.ts", "POST", `${base}/rapatriements`, BODY],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...CREDENTIALS } },
    );
    const [request] = captured;
    if (request === undefined) throw new Error("no request reached the server");
    const tampered = { ...request, url: "/rapatriements/another" };
    expect(signatureOf(request)).not.toBe(expectedSignature(tampered));
  });
});
