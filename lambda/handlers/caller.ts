/**
 * Entry adapters: who calls the HTTP API, as API Gateway's authorizer says —
 * never a header or the body, which the caller writes. The authorizer has
 * checked the caller before the function runs; its context is the only place
 * an identity can come from that the caller cannot choose.
 */
import type {
  APIGatewayEventRequestContextIAMAuthorizer,
  APIGatewayEventRequestContextJWTAuthorizer,
  APIGatewayProxyEventV2,
} from "aws-lambda";
import type { Actor } from "../rapatriements/model.ts";

type Authorizer = Partial<
  APIGatewayEventRequestContextJWTAuthorizer & APIGatewayEventRequestContextIAMAuthorizer
>;

/**
 * The JWT's `sub` (JWT authorizer: `requestContext.authorizer.jwt.claims`),
 * else the IAM caller's ARN (IAM authorization: `requestContext.authorizer.iam`),
 * else `null`: an event with no authorizer, which the deployed API never
 * sends since every route has one.
 */
export function callerOf(event: APIGatewayProxyEventV2): Actor {
  // The payload type leaves the authorizer out: it depends on the route's.
  const { authorizer } = event.requestContext as { authorizer?: Authorizer | null };
  const sub = authorizer?.jwt?.claims?.sub;
  if (typeof sub === "string" && sub !== "") return sub;
  const arn = authorizer?.iam?.userArn;
  if (typeof arn === "string" && arn !== "") return arn;
  return null;
}
