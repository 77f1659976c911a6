/**
 * Test support: SQS events as Lambda's SQS integration hands them to the
 * commands function, each message with the attributes SQS sets (its sender's
 * id among them, which the sender cannot choose).
 */
import type { SQSEvent } from "aws-lambda";

export function sqsEvent(bodies: { id: string; body: string; senderId?: string }[]): SQSEvent {
  return {
    Records: bodies.map(({ id, body, senderId }) => ({
      messageId: id,
      receiptHandle: `handle-${id}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: senderId ?? "AIDAEXAMPLESENDER0000",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-west-1:000000000000:commands",
      awsRegion: "eu-west-1",
    })),
  };
}
