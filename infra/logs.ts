/**
 * Infrastructure: what the stack's logs keep and for how long — the
 * functions' logs, the API's access log and the audit trail. A year by
 * default (context `logRetentionDays`), and kept when the stack is deleted:
 * a record of who did what must outlive the thing it records.
 */
import { RetentionDays } from "aws-cdk-lib/aws-logs";

export const DEFAULT_LOG_RETENTION_DAYS = RetentionDays.ONE_YEAR;

/** The retention periods CloudWatch Logs accepts, in days ("never" aside). */
export const LOG_RETENTION_DAYS: readonly number[] = Object.values(RetentionDays)
  .filter((days): days is number => typeof days === "number" && days !== RetentionDays.INFINITE)
  .sort((a, b) => a - b);

/** The context parameter `logRetentionDays`, checked: one of CloudWatch Logs' periods. */
export function logRetention(text: string | undefined): RetentionDays {
  if (text === undefined) return DEFAULT_LOG_RETENTION_DAYS;
  const days = Number(text);
  const allowed = LOG_RETENTION_DAYS.find((period) => period === days);
  if (allowed === undefined) {
    throw new Error(
      `context logRetentionDays must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(", ")} (got "${text}")`,
    );
  }
  return allowed as RetentionDays;
}

/**
 * The API's access log line, one JSON object per request, refusals included:
 * a 401 or 403 never reaches a function, so this line is the only record of
 * who was refused, and why. Who is the caller as API Gateway knows it — the
 * signer's ARN, principal and account with IAM; the token's `sub` (the
 * `createdBy` of what they write) with a JWT — with the source address and
 * user agent for a caller API Gateway could not identify (an unsigned
 * request, a bad signature, no or an invalid token). Every variable is one
 * that HTTP APIs document for access logs; a variable that does not apply to
 * a request is written "-".
 */
export function accessLogFields(authorization: "iam" | "jwt"): Record<string, string> {
  const who: Record<string, string> =
    authorization === "iam"
      ? {
          callerArn: "$context.identity.userArn",
          caller: "$context.identity.caller",
          callerAccount: "$context.identity.accountId",
        }
      : { subject: "$context.authorizer.claims.sub" };
  return {
    requestId: "$context.requestId",
    time: "$context.requestTime",
    routeKey: "$context.routeKey",
    path: "$context.path",
    status: "$context.status",
    latencyMs: "$context.responseLatency",
    ...who,
    sourceIp: "$context.identity.sourceIp",
    userAgent: "$context.identity.userAgent",
    error: "$context.error.message",
    errorType: "$context.error.responseType",
    authorizerError: "$context.authorizer.error",
    integrationError: "$context.integrationErrorMessage",
  };
}
