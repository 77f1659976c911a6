/**
 * Local tools: who runs a tool, as the change events of an import or a
 * restore name their author: `cli:` and the operating system's user name
 * (the tools have no authorizer to ask, and an AWS identity would cost a
 * call to STS for a name that only says who to ask).
 */
import { userInfo } from "node:os";

export function operatorActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // A user with no name in the system's database (a container's uid, say).
    return `cli:${process.getuid?.() ?? "unknown"}`;
  }
}
