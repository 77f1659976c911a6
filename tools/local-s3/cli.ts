/**
 * Local tools: `npm run s3:local` starts the local S3 server alone, with the
 * bucket of `npm start`'s default data path set up as the stack sets its own
 * (versioned, so that `versions` and `restore` work), and prints the block of
 * variables that points `npx rapatriements` or the AWS CLI at it. It keeps
 * everything in memory, and says so: unlike `npm start`, nothing is saved.
 * Ctrl-C, SIGTERM or SIGHUP stops it.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { startLocalS3 } from "./local-s3.ts";
import { configureBucket } from "./stack-like-bucket.ts";

/** npm start's local defaults: the same bucket, key and region. */
export const LOCAL_REGION = "eu-west-1";
export const LOCAL_BUCKET = "rapatriements-local";
export const LOCAL_KEY = "rapatriements/rapatriements.db";
/** The local server takes any key; these say they are not real ones. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** The lines to paste into a shell: every variable the CLI needs, nothing else. */
export function variablesBlock(endpoint: string): string[] {
  return [
    `export AWS_ENDPOINT_URL_S3=${endpoint}`,
    `export AWS_REGION=${LOCAL_REGION}`,
    `export AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId}`,
    `export AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey}`,
    `export S3_RAPPATRIMENT_FILE_PATH=s3://${LOCAL_BUCKET}/${LOCAL_KEY}`,
    // Left over from a real session, they would sit beside the local keys.
    "unset AWS_SESSION_TOKEN AWS_PROFILE STORAGE_STRATEGY S3_BUCKET_NAME",
  ];
}

const port = process.env.LOCAL_S3_PORT === undefined ? 4566 : Number(process.env.LOCAL_S3_PORT);
const s3 = await startLocalS3({ port, verbose: true, log: (line) => console.error(line) });
const client = new S3Client({
  endpoint: s3.endpoint,
  region: LOCAL_REGION,
  forcePathStyle: true,
  credentials: LOCAL_CREDENTIALS,
});
await client.send(
  new CreateBucketCommand({
    Bucket: LOCAL_BUCKET,
    CreateBucketConfiguration: { LocationConstraint: LOCAL_REGION },
  }),
);
// All the stack's settings but two bucket policy statements the local server
// cannot honour over plain HTTP: TLS-only (it would refuse every request) and
// conditional writes (it does not know the s3:if-match condition keys, so it
// would refuse every write of the data).
await configureBucket(client, LOCAL_BUCKET, LOCAL_KEY, [
  "encryption",
  "versioning",
  "lifecycle",
  "publicAccess",
  "ownership",
  "eventBridge",
  "deleteProtection",
]);
client.destroy();

console.log(
  [
    `local S3 listening: AWS_ENDPOINT_URL_S3=${s3.endpoint}`,
    `  with the bucket ${LOCAL_BUCKET} (region ${LOCAL_REGION}), versioned and encrypted as the stack's.`,
    "  To point npx rapatriements or the AWS CLI at it, paste this into another terminal:",
    "",
    ...variablesBlock(s3.endpoint),
    "",
    "  then: npx rapatriements doctor",
    "  it keeps everything in memory: its buckets and objects are gone when it stops.",
    "  (npm start saves its data in .local/ after every write; this server alone saves nothing.)",
    "  Ctrl-C stops it.",
  ].join("\n"),
);
const stop = () => void s3.stop().then(() => process.exit(0));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, stop);
