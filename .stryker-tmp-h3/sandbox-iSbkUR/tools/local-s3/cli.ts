/**
 * Local tools: `npm run s3:local` starts the local S3 server alone and prints
 * its endpoint, for poking at it with the AWS CLI or the SDK. It keeps
 * everything in memory, and says so: unlike `npm start`, nothing is saved.
 * Ctrl-C, SIGTERM or SIGHUP stops it.
 */
// @ts-nocheck

import { startLocalS3 } from "./local-s3.ts";

const port = process.env.LOCAL_S3_PORT === undefined ? 4566 : Number(process.env.LOCAL_S3_PORT);
const s3 = await startLocalS3({ port, verbose: true, log: (line) => console.error(line) });
console.log(`local S3 listening: AWS_ENDPOINT_URL_S3=${s3.endpoint}`);
console.log(
  "  it keeps everything in memory: its buckets and objects are gone when it stops.\n" +
    "  (npm start saves its data in .local/ after every write; this server alone saves nothing.)\n" +
    "  Ctrl-C stops it.",
);
const stop = () => void s3.stop().then(() => process.exit(0));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, stop);
