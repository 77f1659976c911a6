/**
 * What the stack's logs keep, asserted on the synthesized templates: every
 * log group a year by default (context `logRetentionDays` changes it) and
 * kept when the stack is deleted; the API's access log names who called —
 * and who was refused — with the identity API Gateway has for each
 * authorization mode, using only variables HTTP APIs support.
 */
import { App } from "aws-cdk-lib";
import { describe, expect, test } from "vitest";
import { stackProps } from "../../infra/app.ts";
import { LOG_RETENTION_DAYS } from "../../infra/logs.ts";
import { type Json, resourcesOfType, synthesize } from "../support/synth.ts";

/**
 * The variables the API Gateway developer guide lists for HTTP API access
 * logs ("Customize HTTP API access logs"), mutual-TLS and Cognito ones aside.
 * REST APIs have others (`$context.authorize.status`, …) that an HTTP API
 * stage does not know.
 */
const HTTP_API_ACCESS_LOG_VARIABLES = new Set([
  "$context.accountId",
  "$context.apiId",
  "$context.authorizer.error",
  "$context.authorizer.principalId",
  "$context.awsEndpointRequestId",
  "$context.customDomain.basePathMatched",
  "$context.dataProcessed",
  "$context.domainName",
  "$context.domainPrefix",
  "$context.error.message",
  "$context.error.messageString",
  "$context.error.responseType",
  "$context.extendedRequestId",
  "$context.httpMethod",
  "$context.identity.accountId",
  "$context.identity.caller",
  "$context.identity.principalOrgId",
  "$context.identity.sourceIp",
  "$context.identity.user",
  "$context.identity.userAgent",
  "$context.identity.userArn",
  "$context.integration.error",
  "$context.integration.integrationStatus",
  "$context.integration.latency",
  "$context.integration.requestId",
  "$context.integration.status",
  "$context.integrationErrorMessage",
  "$context.integrationLatency",
  "$context.integrationStatus",
  "$context.path",
  "$context.protocol",
  "$context.requestId",
  "$context.requestTime",
  "$context.requestTimeEpoch",
  "$context.responseLatency",
  "$context.responseLength",
  "$context.routeKey",
  "$context.stage",
  "$context.status",
]);
/** `$context.authorizer.claims.<claim>`: any claim of a JWT the authorizer accepted. */
const JWT_CLAIM = /^\$context\.authorizer\.claims\.[A-Za-z0-9_:-]+$/;

function accessLogFormat(template: Json): Record<string, string> {
  const [[, stage] = ["", {}]] = resourcesOfType(template, "AWS::ApiGatewayV2::Stage");
  return JSON.parse(stage.Properties.AccessLogSettings.Format);
}

function logGroups(template: Json): [string, Json][] {
  return resourcesOfType(template, "AWS::Logs::LogGroup");
}

const iam = synthesize();
const jwt = synthesize({
  jwtIssuer: "https://login.example.org/tenant",
  jwtAudience: "rapatriements-api",
  logRetentionDays: "90",
});

describe("log groups", () => {
  test("the functions' logs and the API's access log: kept a year, and kept when the stack is deleted", () => {
    const groups = logGroups(iam.template);
    // One per function, and the access log.
    expect(groups.map(([id]) => id.replace(/[0-9A-F]{8}$/, "")).sort()).toEqual([
      "ApiAccessLogs",
      "ApplyCommandsLogs",
      "HttpRouterLogs",
      "PublishEventsLogs",
    ]);
    for (const [id, group] of groups) {
      expect(group.Properties.RetentionInDays, id).toBe(365);
      expect(group.DeletionPolicy, id).toBe("Retain");
      expect(group.UpdateReplacePolicy, id).toBe("Retain");
    }
  });

  test("logRetentionDays sets every one of them", () => {
    for (const [id, group] of logGroups(jwt.template)) {
      expect(group.Properties.RetentionInDays, id).toBe(90);
    }
  });

  test.each(["100", "a year", "0", "9999"])(
    "logRetentionDays=%s is refused at synth, listing the periods CloudWatch Logs accepts",
    (days) => {
      expect(() => stackProps(new App({ context: { logRetentionDays: days } }))).toThrow(
        `context logRetentionDays must be one of CloudWatch Logs' retention periods: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got "${days}")`,
      );
    },
  );

  test("the accepted periods are CloudWatch Logs' own", () => {
    expect(LOG_RETENTION_DAYS).toContain(365);
    expect(LOG_RETENTION_DAYS).toContain(3653);
    expect(stackProps(new App({ context: { logRetentionDays: "3653" } })).logRetention).toBe(3653);
  });
});

describe("the API's access log", () => {
  const common = {
    requestId: "$context.requestId",
    time: "$context.requestTime",
    routeKey: "$context.routeKey",
    path: "$context.path",
    status: "$context.status",
    latencyMs: "$context.responseLatency",
    sourceIp: "$context.identity.sourceIp",
    userAgent: "$context.identity.userAgent",
    error: "$context.error.message",
    errorType: "$context.error.responseType",
    authorizerError: "$context.authorizer.error",
    integrationError: "$context.integrationErrorMessage",
  };

  test("with IAM, each line names the signer: ARN, principal and account, beside the refusal's reason", () => {
    expect(accessLogFormat(iam.template)).toEqual({
      ...common,
      callerArn: "$context.identity.userArn",
      caller: "$context.identity.caller",
      callerAccount: "$context.identity.accountId",
    });
  });

  test("with a JWT, each line names the token's subject (the createdBy of what it writes)", () => {
    expect(accessLogFormat(jwt.template)).toEqual({
      ...common,
      subject: "$context.authorizer.claims.sub",
    });
  });

  test.each([
    ["IAM", iam],
    ["JWT", jwt],
  ])("with %s, every variable is one HTTP APIs support in access logs", (_mode, synthesized) => {
    for (const variable of Object.values(accessLogFormat(synthesized.template))) {
      expect(
        HTTP_API_ACCESS_LOG_VARIABLES.has(variable) || JWT_CLAIM.test(variable),
        variable,
      ).toBe(true);
    }
    expect(synthesized.nag.success).toBe(true);
  });
});
