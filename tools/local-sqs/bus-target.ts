/**
 * Local tools: an EventBridge bus on the local server (moto serves
 * EventBridge beside S3 and SQS) with a rule whose target is an SQS queue,
 * so that what a consumer's target receives can be read back: the events
 * exactly as EventBridge delivers them. Shared by `npm start` (GET
 * /_local/events), the tests and the benchmarks.
 */
import {
  CreateEventBusCommand,
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceAlreadyExistsException,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** An event as a rule's target receives it. */
export interface DeliveredEvent {
  id: string;
  source: string;
  "detail-type": string;
  detail: Record<string, unknown>;
  time: string;
  [field: string]: unknown;
}

export interface BusTarget {
  busName: string;
  queueUrl: string;
}

/**
 * Creates `busName` (kept if it exists) and a rule on it sending every event
 * of `source` to a new queue named `queueName`.
 */
export async function createBusTarget(
  clients: { events: EventBridgeClient; sqs: SQSClient },
  names: { busName: string; queueName: string; source: string },
): Promise<BusTarget> {
  const { events, sqs } = clients;
  try {
    await events.send(new CreateEventBusCommand({ Name: names.busName }));
  } catch (error) {
    if (!(error instanceof ResourceAlreadyExistsException)) throw error;
  }
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: names.queueName })))
    .QueueUrl as string;
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const rule = `${names.queueName}-rule`;
  await events.send(
    new PutRuleCommand({
      Name: rule,
      EventBusName: names.busName,
      EventPattern: JSON.stringify({ source: [names.source] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: rule,
      EventBusName: names.busName,
      Targets: [{ Id: "queue", Arn: attributes.Attributes?.QueueArn }],
    }),
  );
  return { busName: names.busName, queueUrl };
}

/** Takes every event the target's queue holds now, oldest first as the queue gives them. */
export async function drainBusTarget(sqs: SQSClient, target: BusTarget): Promise<DeliveredEvent[]> {
  const events: DeliveredEvent[] = [];
  for (;;) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: target.queueUrl, MaxNumberOfMessages: 10 }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) return events;
    for (const message of messages) events.push(JSON.parse(message.Body ?? "{}") as DeliveredEvent);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: target.queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}
