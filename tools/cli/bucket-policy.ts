/**
 * Operators' CLI: `doctor`'s checks of the bucket policy — the three
 * statements the stack puts on its own bucket, each keyed to the data key:
 * TLS only, conditional writes, no delete. On an adopted bucket each missing
 * one is a warning whose fix is one `put-bucket-policy` command: the team's
 * statements as they are, plus every one of ours that is missing (the command
 * replaces the whole policy, so running it once, from any of the lines,
 * leaves all three in place and nothing of the team's lost).
 */
import { GetBucketPolicyCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  CONDITIONAL_WRITES_SID,
  conditionalWritesStatement,
  DELETE_PROTECTION_SID,
  deleteProtectionStatement,
  TLS_ONLY_SID,
  tlsOnlyStatement,
} from "../../infra/data-bucket-rules.ts";
import { keeping, type Location } from "./bucket-settings.ts";
import { attempt, type Check, notVerifiable, shellJson } from "./check.ts";

// biome-ignore lint/suspicious/noExplicitAny: a bucket policy is free-form JSON, read field by field
type PolicyStatement = Record<string, any>;

const list = (value: unknown): string[] =>
  [value].flat().filter((v): v is string => typeof v === "string");

/** Whether a pattern with `*` wildcards covers `value`; ARNs of any partition compare as aws. */
function covers(pattern: string, value: string): boolean {
  const normalise = (text: string) => text.replace(/^arn:[^:]*:/, "arn:aws:");
  const regex = normalise(pattern)
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${regex}$`, "i").test(normalise(value));
}

/** A Deny that applies to every caller, whatever IAM grants them. */
function deniesEveryone(statement: PolicyStatement): boolean {
  const principal = statement.Principal;
  return statement.Effect === "Deny" && (principal === "*" || list(principal?.AWS).includes("*"));
}

function coversActions(statement: PolicyStatement, actions: string[]): boolean {
  const patterns = list(statement.Action);
  return actions.every((action) => patterns.some((pattern) => covers(pattern, action)));
}

function coversObject(statement: PolicyStatement, bucket: string, key: string): boolean {
  return list(statement.Resource).some((r) => covers(r, `arn:aws:s3:::${bucket}/${key}`));
}

/** A condition block with its operator and key names lower-cased (IAM compares them so). */
function conditionOf(statement: PolicyStatement): Record<string, Record<string, string[]>> {
  const block: Record<string, Record<string, unknown>> = statement.Condition ?? {};
  return Object.fromEntries(
    Object.entries(block).map(([operator, keys]) => [
      operator.toLowerCase(),
      Object.fromEntries(
        Object.entries(keys ?? {}).map(([k, v]) => [k.toLowerCase(), [v].flat().map(String)]),
      ),
    ]),
  );
}

function refusesPlainHttp(statement: PolicyStatement, bucket: string, key: string): boolean {
  const secure = conditionOf(statement).bool?.["aws:securetransport"];
  return (
    deniesEveryone(statement) &&
    coversActions(statement, ["s3:GetObject", "s3:PutObject"]) &&
    coversObject(statement, bucket, key) &&
    secure?.every((v) => v.toLowerCase() === "false") === true
  );
}

function requiresConditionalWrites(statement: PolicyStatement, bucket: string, key: string) {
  const nulls = conditionOf(statement).null ?? {};
  return (
    deniesEveryone(statement) &&
    coversActions(statement, ["s3:PutObject"]) &&
    coversObject(statement, bucket, key) &&
    nulls["s3:if-match"]?.join() === "true" &&
    nulls["s3:if-none-match"]?.join() === "true"
  );
}

function refusesDeletes(statement: PolicyStatement, bucket: string, key: string): boolean {
  return (
    deniesEveryone(statement) &&
    statement.Condition === undefined &&
    coversActions(statement, ["s3:DeleteObject", "s3:DeleteObjectVersion"]) &&
    coversObject(statement, bucket, key)
  );
}

interface Protection {
  name: string;
  sid: string;
  statement: (bucket: string, key: string) => PolicyStatement;
  holds: (statement: PolicyStatement, bucket: string, key: string) => boolean;
  ok: (key: string) => string;
  missing: (key: string) => string;
}

const PROTECTIONS: readonly Protection[] = [
  {
    name: "TLS seulement",
    sid: TLS_ONLY_SID,
    statement: tlsOnlyStatement,
    holds: refusesPlainHttp,
    ok: (key) => `refuse toute requête en HTTP simple sur ${key} (aws:SecureTransport false)`,
    missing: (key) =>
      `rien ne refuse une requête en HTTP simple sur ${key} : un client mal configuré lirait ou écrirait les données en clair sur le réseau`,
  },
  {
    name: "écriture conditionnelle",
    sid: CONDITIONAL_WRITES_SID,
    statement: conditionalWritesStatement,
    holds: requiresConditionalWrites,
    ok: (key) => `refuse toute écriture de ${key} sans If-Match ni If-None-Match`,
    missing: (key) =>
      `rien ne refuse une écriture de ${key} sans condition : une écriture d'un autre outil pourrait écraser une modification qu'elle n'a pas lue`,
  },
  {
    name: "protection suppression",
    sid: DELETE_PROTECTION_SID,
    statement: deleteProtectionStatement,
    holds: refusesDeletes,
    ok: (key) => `refuse s3:DeleteObject et s3:DeleteObjectVersion sur ${key}, à tous`,
    missing: (key) =>
      `rien n'empêche de supprimer ${key} : une suppression le cacherait derrière un marqueur (les fonctions refusent alors tout, DATA_OBJECT_DELETED, jusqu'à un restore), une suppression de version effacerait un point de restauration`,
  },
];

/**
 * The three checks, in the order above. `endpoint` is AWS_ENDPOINT_URL_S3: on
 * a plain-HTTP endpoint (a local server) TLS cannot be required — a
 * statement that did would refuse the application itself.
 */
export async function checkBucketPolicy(
  s3: S3Client,
  { bucket, key }: Location,
  endpoint: string | undefined,
): Promise<Check[]> {
  const got = await attempt(() => s3.send(new GetBucketPolicyCommand({ Bucket: bucket })));
  const plainHttp = endpoint?.toLowerCase().startsWith("http://") === true;
  if (!got.ok && got.code !== "NoSuchBucketPolicy") {
    return PROTECTIONS.map((p) =>
      plainHttp && p.sid === TLS_ONLY_SID
        ? withoutTls(endpoint)
        : notVerifiable(p.name, got, "s3:GetBucketPolicy", bucket),
    );
  }
  let policy: { Version?: string; Id?: string; Statement?: unknown } = {};
  try {
    policy = got.value?.Policy === undefined ? {} : JSON.parse(got.value.Policy);
  } catch {
    // S3 only stores valid JSON; an unparsable answer is treated as no policy.
  }
  const statements = [policy.Statement ?? []].flat() as PolicyStatement[];
  const found = (p: Protection) => statements.some((s) => p.holds(s, bucket, key));
  const missing = PROTECTIONS.filter((p) => !found(p) && !(plainHttp && p.sid === TLS_ONLY_SID));
  // put-bucket-policy replaces the whole policy: keep the team's statements
  // (and ours that hold), replace a statement of ours that no longer does.
  const kept = statements.filter((s) => !missing.some((p) => p.sid === s.Sid));
  const merged = {
    Version: policy.Version ?? "2012-10-17",
    ...(policy.Id === undefined ? {} : { Id: policy.Id }),
    Statement: [...kept, ...missing.map((p) => p.statement(bucket, key))],
  };
  const theirs = kept.filter((s) => !PROTECTIONS.some((p) => p.sid === s.Sid)).length;
  const command = `aws s3api put-bucket-policy --bucket ${bucket} --policy ${shellJson(merged)}`;
  return PROTECTIONS.map((p): Check => {
    if (plainHttp && p.sid === TLS_ONLY_SID) {
      return found(p)
        ? {
            name: p.name,
            level: "fail",
            detail: `la politique refuse le HTTP simple sur ${key}, mais AWS_ENDPOINT_URL_S3 est en HTTP (${endpoint}) : chaque lecture et écriture de l'application serait refusée`,
            fix: "Donnez à AWS_ENDPOINT_URL_S3 une adresse https://, ou retirez cette instruction de la politique de ce serveur.",
          }
        : withoutTls(endpoint);
    }
    if (found(p)) return { name: p.name, level: "ok", detail: p.ok(key) };
    const others = missing.filter((m) => m !== p).map((m) => m.sid);
    return {
      name: p.name,
      level: "warn",
      detail: `${p.missing(key)}${statements.length === 0 ? " (le bucket n'a aucune politique)" : ""}`,
      fix: `Ajoutez l'instruction ${p.sid}${others.length === 0 ? "" : ` (la même commande ajoute aussi ${others.join(" et ")}, qui manque${others.length > 1 ? "nt" : ""} aussi)`}${keeping(theirs, "instruction", "instructions", "toute la politique")} : ${command}`,
    };
  });
}

function withoutTls(endpoint: string | undefined): Check {
  return {
    name: "TLS seulement",
    level: "ok",
    detail: `sans objet : AWS_ENDPOINT_URL_S3 est en HTTP (${endpoint}) ; S3 sur AWS se joint en HTTPS, où cette vérification s'applique`,
  };
}
