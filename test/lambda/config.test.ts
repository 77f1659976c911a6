/**
 * The configuration contract of the operator guide: which variables are
 * required, the exact `ValueError` messages users search for, how the data
 * file's location and the storage strategy are resolved, and how `.env` and
 * the process environment combine. Every test passes explicit environments.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { configProblems, loadConfig } from "../../lambda/config.ts";
import { type Environment, readEnvironment } from "../../lambda/environment.ts";
import { ValueError } from "../../lambda/errors.ts";

/** The minimal valid environment of the guide (full s3:// path). */
const GUIDE_ENV: Environment = {
  AWS_REGION: "eu-west-1",
  S3_RAPPATRIMENT_FILE_PATH: "s3://foxon-mane-interflow/rappatriements.db",
};

/** The error thrown by `loadConfig`, failing the test when nothing is thrown. */
function configError(env: Environment, processEnv: Environment = {}): ValueError {
  let thrown: unknown;
  try {
    loadConfig(env, processEnv);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ValueError);
  return thrown as ValueError;
}

/** The commands' settings when none of their variables is set: the queue's defaults, no queue. */
const NO_COMMANDS = { maxReceiveCount: 5, visibilityTimeoutSeconds: 180 };

function withPath(path: string, extra: Environment = {}): Environment {
  return { AWS_REGION: "eu-west-1", S3_RAPPATRIMENT_FILE_PATH: path, ...extra };
}

describe("required variables", () => {
  test.each([
    ["unset", undefined],
    ["empty", ""],
    ["blank", "   "],
  ])("AWS_REGION %s gives the guide's error", (_label, value) => {
    const error = configError({ ...GUIDE_ENV, AWS_REGION: value });
    expect(error.name).toBe("ValueError");
    expect(error.message).toBe("AWS_REGION est obligatoire");
    expect(String(error)).toBe("ValueError: AWS_REGION est obligatoire");
  });

  test.each([
    ["unset", undefined],
    ["empty", ""],
    ["blank", " \t "],
  ])("S3_RAPPATRIMENT_FILE_PATH %s gives the guide's error", (_label, value) => {
    const error = configError({ ...GUIDE_ENV, S3_RAPPATRIMENT_FILE_PATH: value });
    expect(error.name).toBe("ValueError");
    expect(error.message).toBe("S3_RAPPATRIMENT_FILE_PATH est obligatoire");
    expect(String(error)).toBe("ValueError: S3_RAPPATRIMENT_FILE_PATH est obligatoire");
  });

  test.each([
    ["unset", undefined],
    ["empty", ""],
    ["blank", "  "],
  ])("S3_BUCKET_NAME %s with a relative path gives the guide's error", (_label, value) => {
    const error = configError(
      withPath("rappatriements/rappatriements.json", { S3_BUCKET_NAME: value }),
    );
    expect(error.name).toBe("ValueError");
    expect(error.message).toBe("S3_BUCKET_NAME est obligatoire");
    expect(String(error)).toBe("ValueError: S3_BUCKET_NAME est obligatoire");
  });

  test("an empty environment reports AWS_REGION first", () => {
    expect(String(configError({}))).toBe("ValueError: AWS_REGION est obligatoire");
  });

  test("the configuration error is a server fault with a stable code", () => {
    const error = configError({});
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(500);
    expect(error.code).toBe("CONFIGURATION_INVALID");
    expect(error.expose).toBe(false);
  });

  test("values are trimmed", () => {
    const config = loadConfig(
      {
        AWS_REGION: "  eu-west-1 ",
        S3_RAPPATRIMENT_FILE_PATH: " s3://foxon-mane-interflow/rappatriements.db\t",
      },
      {},
    );
    expect(config.region).toBe("eu-west-1");
    expect(config.bucket).toBe("foxon-mane-interflow");
    expect(config.key).toBe("rappatriements.db");
  });
});

describe("S3_RAPPATRIMENT_FILE_PATH", () => {
  test("the guide's full-path example: bucket taken from the path", () => {
    expect(loadConfig(GUIDE_ENV, {})).toEqual({
      region: "eu-west-1",
      bucket: "foxon-mane-interflow",
      key: "rappatriements.db",
      strategy: "sqlite",
      commands: NO_COMMANDS,
    });
  });

  test("the guide's relative-path example: bucket from S3_BUCKET_NAME", () => {
    const config = loadConfig(
      withPath("rappatriements/rappatriements.json", {
        S3_BUCKET_NAME: "interflow-rappatriements",
      }),
      {},
    );
    expect(config).toEqual({
      region: "eu-west-1",
      bucket: "interflow-rappatriements",
      key: "rappatriements/rappatriements.json",
      strategy: "json",
      commands: NO_COMMANDS,
    });
  });

  test("a nested key in a full path is kept whole", () => {
    const config = loadConfig(withPath("s3://my-bucket/a/b/c/data.db"), {});
    expect(config.bucket).toBe("my-bucket");
    expect(config.key).toBe("a/b/c/data.db");
  });

  test("S3_BUCKET_NAME is ignored when the path is a full s3:// path", () => {
    const config = loadConfig(
      withPath("s3://path-bucket/data.db", { S3_BUCKET_NAME: "other-bucket" }),
      {},
    );
    expect(config.bucket).toBe("path-bucket");
    expect(config.key).toBe("data.db");
  });

  test("an invalid S3_BUCKET_NAME does not matter with a full s3:// path", () => {
    const config = loadConfig(
      withPath("s3://path-bucket/data.db", { S3_BUCKET_NAME: "Not_A_Bucket" }),
      {},
    );
    expect(config.bucket).toBe("path-bucket");
  });

  test.each(["s3://foxon-mane-interflow", "s3://foxon-mane-interflow/"])(
    "%s names no file: ValueError",
    (path) => {
      const error = configError(withPath(path));
      expect(error.name).toBe("ValueError");
      expect(error.message).toBe(
        `S3_RAPPATRIMENT_FILE_PATH doit nommer un fichier après le bucket (reçu : "${path}", exemple : s3://foxon-mane-interflow/rappatriements.db)`,
      );
    },
  );

  // The exact words: each says what is wrong with the value, and a change of
  // reason (a folder called a bad start, say) would mislead the operator.
  test.each([
    [
      "full path, key starting with /",
      "s3://my-bucket//data.db",
      'S3_RAPPATRIMENT_FILE_PATH : la clé ne doit pas commencer par "/" (reçu : "/data.db", exemple : rappatriements/rappatriements.db)',
    ],
    [
      "full path, key ending with /",
      "s3://my-bucket/folder/",
      'S3_RAPPATRIMENT_FILE_PATH doit nommer un fichier, pas un dossier (reçu : "folder/")',
    ],
    [
      "relative key starting with /",
      "/rappatriements/data.db",
      'S3_RAPPATRIMENT_FILE_PATH : la clé ne doit pas commencer par "/" (reçu : "/rappatriements/data.db", exemple : rappatriements/rappatriements.db)',
    ],
    [
      "relative key ending with /",
      "rappatriements/",
      'S3_RAPPATRIMENT_FILE_PATH doit nommer un fichier, pas un dossier (reçu : "rappatriements/")',
    ],
  ])("%s: ValueError naming the variable and what is wrong", (_label, path, message) => {
    const error = configError(withPath(path, { S3_BUCKET_NAME: "my-bucket" }));
    expect(error.name).toBe("ValueError");
    expect(error.message).toBe(message);
  });

  test("a key over 1024 bytes is a ValueError", () => {
    const error = configError(withPath(`s3://my-bucket/${"é".repeat(513)}`));
    expect(String(error)).toBe(
      "ValueError: S3_RAPPATRIMENT_FILE_PATH : la clé dépasse 1024 octets",
    );
  });

  test("a key of exactly 1024 bytes is accepted", () => {
    const key = `${"k".repeat(1019)}.json`;
    expect(loadConfig(withPath(`s3://my-bucket/${key}`), {}).key).toBe(key);
  });

  test.each([
    "https://foxon-mane-interflow.s3.amazonaws.com/rappatriements.db",
    "http://localhost:4566/bucket/data.db",
    "file:///tmp/rappatriements.db",
    "S3://foxon-mane-interflow/rappatriements.db",
  ])("a non-s3 URL (%s) is a ValueError, even with S3_BUCKET_NAME", (path) => {
    const error = configError(withPath(path, { S3_BUCKET_NAME: "my-bucket" }));
    expect(error.name).toBe("ValueError");
    expect(error.message).toBe(
      `S3_RAPPATRIMENT_FILE_PATH doit être un chemin s3://bucket/clé ou une clé relative (reçu : "${path}")`,
    );
  });
});

describe("bucket names", () => {
  const LENGTH = "de 3 à 63 caractères";
  const CHARACTERS =
    "minuscules, chiffres, points et tirets, commençant et finissant par une lettre ou un chiffre";
  const RESERVED = "préfixe ou suffixe réservé par AWS";
  /** [what is wrong, the name, the reason the message gives]. */
  const invalid: [string, string, string][] = [
    ["uppercase", "My-Bucket", CHARACTERS],
    ["underscore", "my_bucket", CHARACTERS],
    ["too short", "ab", LENGTH],
    ["too long", "a".repeat(64), LENGTH],
    ["IP address", "192.168.5.4", "pas une adresse IP"],
    ["two adjacent dots", "my..bucket", "pas deux points de suite"],
    ["leading dash", "-bucket", CHARACTERS],
    ["trailing dot", "bucket.", CHARACTERS],
    ["prefix xn--", "xn--bucket", RESERVED],
    ["prefix sthree-", "sthree-bucket", RESERVED],
    ["prefix amzn-s3-demo-", "amzn-s3-demo-bucket", RESERVED],
    ["suffix -s3alias", "bucket-s3alias", RESERVED],
    ["suffix --ol-s3", "bucket--ol-s3", RESERVED],
    ["suffix .mrap (Multi-Region Access Points)", "bucket.mrap", RESERVED],
    ["suffix --x-s3", "bucket--x-s3", RESERVED],
  ];

  test.each(invalid)(
    "%s (%s) in S3_BUCKET_NAME is a ValueError naming it and why",
    (_l, name, why) => {
      const error = configError(withPath("data.db", { S3_BUCKET_NAME: name }));
      expect(error.name).toBe("ValueError");
      expect(error.message).toBe(`S3_BUCKET_NAME : nom de bucket invalide "${name}" (${why})`);
    },
  );

  test.each(invalid)(
    "%s (%s) in an s3:// path is a ValueError naming it and why",
    (_l, name, why) => {
      const error = configError(withPath(`s3://${name}/data.db`));
      expect(error.name).toBe("ValueError");
      expect(error.message).toBe(
        `S3_RAPPATRIMENT_FILE_PATH : nom de bucket invalide "${name}" (${why})`,
      );
    },
  );

  test.each([
    "abc",
    "a".repeat(63),
    "my.bucket.name",
    "my-bucket-2024",
    "foxon-mane-interflow",
    "interflow-rappatriements",
    "1bucket9",
    "192.168.5.4.data",
  ])("%s is a valid bucket name", (name) => {
    expect(loadConfig(withPath("data.db", { S3_BUCKET_NAME: name }), {}).bucket).toBe(name);
    expect(loadConfig(withPath(`s3://${name}/data.db`), {}).bucket).toBe(name);
  });
});

describe("STORAGE_STRATEGY", () => {
  test.each([
    ["data.json", "json"],
    ["dir/Data.JSON", "json"],
    ["data.Json", "json"],
    ["data.db", "sqlite"],
    ["data.sqlite", "sqlite"],
    ["json", "sqlite"],
    ["data.json.bak", "sqlite"],
  ])("unset: key %s means %s", (key, strategy) => {
    expect(loadConfig(withPath(`s3://my-bucket/${key}`), {}).strategy).toBe(strategy);
  });

  test.each(["", "  "])("blank (%j) counts as unset", (value) => {
    expect(
      loadConfig(withPath("s3://my-bucket/data.json", { STORAGE_STRATEGY: value }), {}).strategy,
    ).toBe("json");
    expect(
      loadConfig(withPath("s3://my-bucket/data.db", { STORAGE_STRATEGY: value }), {}).strategy,
    ).toBe("sqlite");
  });

  test.each([
    ["sqlite", "data.json", "sqlite"],
    ["SQLite", "data.json", "sqlite"],
    [" SQLITE ", "data.json", "sqlite"],
    ["json", "data.db", "json"],
    ["JSON", "data.db", "json"],
    ["Json", "rappatriements.db", "json"],
  ])("explicit %j wins over the key %s", (value, key, strategy) => {
    const config = loadConfig(withPath(`s3://my-bucket/${key}`, { STORAGE_STRATEGY: value }), {});
    expect(config.strategy).toBe(strategy);
  });

  test.each(["csv", "sqlite3", "yaml", "json,sqlite"])(
    "%s is a ValueError naming both allowed values and the received one",
    (value) => {
      const error = configError(withPath("s3://my-bucket/data.db", { STORAGE_STRATEGY: value }));
      expect(error.name).toBe("ValueError");
      expect(error.message).toBe(
        `STORAGE_STRATEGY doit valoir "sqlite" ou "json" (reçu : "${value}")`,
      );
    },
  );
});

describe("AWS_REGION format", () => {
  test.each([
    "eu-west-1",
    "us-east-1",
    "ap-southeast-2",
    "us-gov-west-1",
    "cn-north-1",
    "il-central-1",
    "eusc-de-east-1",
  ])("%s is accepted", (region) => {
    expect(loadConfig({ ...GUIDE_ENV, AWS_REGION: region }, {}).region).toBe(region);
  });

  test.each([
    "EU-WEST-1",
    "eu-west",
    "euwest1",
    "eu_west_1",
    "eu-west-1a",
    "Irlande",
    "eu-west-1 us-east-1",
  ])("%s is a ValueError naming AWS_REGION and the value", (region) => {
    const error = configError({ ...GUIDE_ENV, AWS_REGION: region });
    expect(error.name).toBe("ValueError");
    expect(error.message).toBe(
      `AWS_REGION n'est pas une région AWS valide (reçu : "${region}", exemple : eu-west-1)`,
    );
  });
});

describe("S3 endpoint", () => {
  test("no endpoint variable: no s3Endpoint", () => {
    expect(loadConfig(GUIDE_ENV, {})).not.toHaveProperty("s3Endpoint");
  });

  test("AWS_ENDPOINT_URL_S3 becomes s3Endpoint", () => {
    const config = loadConfig({ ...GUIDE_ENV, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:4566" }, {});
    expect(config.s3Endpoint).toBe("http://127.0.0.1:4566");
  });

  test("AWS_ENDPOINT_URL is the fallback", () => {
    const config = loadConfig({ ...GUIDE_ENV, AWS_ENDPOINT_URL: "https://s3.example.test" }, {});
    expect(config.s3Endpoint).toBe("https://s3.example.test");
  });

  test("AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL", () => {
    const config = loadConfig(
      {
        ...GUIDE_ENV,
        AWS_ENDPOINT_URL_S3: "http://localhost:9000",
        AWS_ENDPOINT_URL: "http://localhost:4566",
      },
      {},
    );
    expect(config.s3Endpoint).toBe("http://localhost:9000");
  });

  test("a blank AWS_ENDPOINT_URL_S3 falls back to AWS_ENDPOINT_URL", () => {
    const config = loadConfig(
      { ...GUIDE_ENV, AWS_ENDPOINT_URL_S3: " ", AWS_ENDPOINT_URL: "http://localhost:4566" },
      {},
    );
    expect(config.s3Endpoint).toBe("http://localhost:4566");
  });

  test.each(["ftp://localhost:21", "localhost:4566", "not a url", "s3://foxon-mane-interflow"])(
    "AWS_ENDPOINT_URL_S3=%s is a ValueError",
    (endpoint) => {
      const error = configError({ ...GUIDE_ENV, AWS_ENDPOINT_URL_S3: endpoint });
      expect(error.name).toBe("ValueError");
      expect(error.message).toBe(
        `AWS_ENDPOINT_URL_S3 n'est pas une URL http(s) (reçu : "${endpoint}")`,
      );
    },
  );

  test("a non-http AWS_ENDPOINT_URL is a ValueError naming AWS_ENDPOINT_URL, where the value is", () => {
    const error = configError({ ...GUIDE_ENV, AWS_ENDPOINT_URL: "tcp://localhost:4566" });
    expect(String(error)).toBe(
      `ValueError: AWS_ENDPOINT_URL n'est pas une URL http(s) (reçu : "tcp://localhost:4566")`,
    );
  });

  test("a blank AWS_ENDPOINT_URL_S3 over a bad AWS_ENDPOINT_URL: the error names AWS_ENDPOINT_URL", () => {
    const error = configError({
      ...GUIDE_ENV,
      AWS_ENDPOINT_URL_S3: "  ",
      AWS_ENDPOINT_URL: "localhost:4566",
    });
    expect(error.message).toBe(
      `AWS_ENDPOINT_URL n'est pas une URL http(s) (reçu : "localhost:4566")`,
    );
  });
});

describe("credentials", () => {
  const keys = {
    AWS_ACCESS_KEY_ID: "AKIAFROMDOTENV",
    AWS_SECRET_ACCESS_KEY: "secret-from-dotenv",
  };

  test("keys only in .env are handed over", () => {
    const config = loadConfig({ ...GUIDE_ENV, ...keys }, {});
    expect(config.credentials).toEqual({
      accessKeyId: "AKIAFROMDOTENV",
      secretAccessKey: "secret-from-dotenv",
    });
  });

  test("the session token is included when present", () => {
    const config = loadConfig({ ...GUIDE_ENV, ...keys, AWS_SESSION_TOKEN: "token" }, {});
    expect(config.credentials).toEqual({
      accessKeyId: "AKIAFROMDOTENV",
      secretAccessKey: "secret-from-dotenv",
      sessionToken: "token",
    });
  });

  test("a blank session token is left out", () => {
    const config = loadConfig({ ...GUIDE_ENV, ...keys, AWS_SESSION_TOKEN: " " }, {});
    expect(config.credentials).toEqual({
      accessKeyId: "AKIAFROMDOTENV",
      secretAccessKey: "secret-from-dotenv",
    });
  });

  test("keys in the process environment are left to the SDK's default chain", () => {
    const processEnv = { AWS_ACCESS_KEY_ID: "AKIAPROCESS", AWS_SECRET_ACCESS_KEY: "process" };
    const config = loadConfig({ ...GUIDE_ENV, ...processEnv }, processEnv);
    expect(config.credentials).toBeUndefined();
    expect(config).not.toHaveProperty("credentials");
  });

  test("an access key id alone in the process environment is enough to defer to the SDK", () => {
    const config = loadConfig({ ...GUIDE_ENV, ...keys }, { AWS_ACCESS_KEY_ID: "AKIAPROCESS" });
    expect(config.credentials).toBeUndefined();
  });

  test("an incomplete pair gives no credentials", () => {
    expect(
      loadConfig({ ...GUIDE_ENV, AWS_ACCESS_KEY_ID: "AKIAONLY" }, {}).credentials,
    ).toBeUndefined();
    expect(
      loadConfig({ ...GUIDE_ENV, AWS_SECRET_ACCESS_KEY: "secret-only" }, {}).credentials,
    ).toBeUndefined();
  });

  test("no keys anywhere: no credentials", () => {
    expect(loadConfig(GUIDE_ENV, {})).not.toHaveProperty("credentials");
  });
});

describe("readEnvironment", () => {
  const dirs: string[] = [];

  function tempDir(dotenv?: string): string {
    const dir = mkdtempSync(join(tmpdir(), "rapatriements-config-"));
    dirs.push(dir);
    if (dotenv !== undefined) writeFileSync(join(dir, ".env"), dotenv, "utf8");
    return dir;
  }

  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  test("reads the values of the .env file", () => {
    const dir = tempDir(
      [
        "# commentaire",
        "AWS_REGION=eu-west-1",
        'S3_BUCKET_NAME="interflow-rappatriements"',
        "S3_RAPPATRIMENT_FILE_PATH=rappatriements/rappatriements.json",
        "",
      ].join("\n"),
    );
    const env = readEnvironment({}, dir);
    expect(env.AWS_REGION).toBe("eu-west-1");
    expect(env.S3_BUCKET_NAME).toBe("interflow-rappatriements");
    expect(env.S3_RAPPATRIMENT_FILE_PATH).toBe("rappatriements/rappatriements.json");
  });

  test("the process environment wins over the file; other variables are kept", () => {
    const dir = tempDir("AWS_REGION=eu-west-1\nSTORAGE_STRATEGY=json\n");
    const env = readEnvironment({ AWS_REGION: "us-east-1", HOME: "/home/op" }, dir);
    expect(env.AWS_REGION).toBe("us-east-1");
    expect(env.STORAGE_STRATEGY).toBe("json");
    expect(env.HOME).toBe("/home/op");
  });

  test("an undefined process variable does not hide the file's value", () => {
    const dir = tempDir("AWS_REGION=eu-west-1\n");
    expect(readEnvironment({ AWS_REGION: undefined }, dir).AWS_REGION).toBe("eu-west-1");
  });

  test("a missing .env returns the environment unchanged", () => {
    const dir = tempDir();
    const processEnv = { AWS_REGION: "eu-west-1", OTHER: "x" };
    const env = readEnvironment(processEnv, dir);
    expect(env).toEqual({ AWS_REGION: "eu-west-1", OTHER: "x" });
  });

  test("an unreadable .env is a ValueError naming the file", () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".env"));
    let thrown: unknown;
    try {
      readEnvironment({}, dir);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValueError);
    expect(String(thrown)).toBe(`ValueError: le fichier ${join(dir, ".env")} est illisible`);
  });

  test("the processEnv argument is not modified", () => {
    const dir = tempDir("AWS_REGION=eu-west-1\nS3_BUCKET_NAME=my-bucket\n");
    const processEnv = { OTHER: "x" };
    readEnvironment(processEnv, dir);
    expect(processEnv).toEqual({ OTHER: "x" });
  });

  test("end to end: the guide's .env example", () => {
    const dir = tempDir(
      [
        "# Configuration de stockage",
        "STORAGE_STRATEGY=sqlite",
        "",
        "# Configuration AWS S3 pour les rappatriements (OBLIGATOIRES)",
        "AWS_REGION=eu-west-1",
        "S3_RAPPATRIMENT_FILE_PATH=s3://foxon-mane-interflow/rappatriements.db",
        "",
      ].join("\n"),
    );
    const processEnv: Environment = { PATH: "/usr/bin" };
    expect(loadConfig(readEnvironment(processEnv, dir), processEnv)).toEqual({
      region: "eu-west-1",
      bucket: "foxon-mane-interflow",
      key: "rappatriements.db",
      strategy: "sqlite",
      commands: NO_COMMANDS,
    });
  });

  test("end to end: the process environment overrides .env", () => {
    const dir = tempDir(
      "AWS_REGION=eu-west-1\nS3_RAPPATRIMENT_FILE_PATH=s3://foxon-mane-interflow/rappatriements.db\n",
    );
    const processEnv: Environment = {
      AWS_REGION: "eu-west-3",
      S3_RAPPATRIMENT_FILE_PATH: "rappatriements/rappatriements.json",
      S3_BUCKET_NAME: "interflow-rappatriements",
    };
    expect(loadConfig(readEnvironment(processEnv, dir), processEnv)).toEqual({
      region: "eu-west-3",
      bucket: "interflow-rappatriements",
      key: "rappatriements/rappatriements.json",
      strategy: "json",
      commands: NO_COMMANDS,
    });
  });

  test("end to end: credentials written in .env are handed over", () => {
    const dir = tempDir(
      [
        "AWS_REGION=eu-west-1",
        "S3_RAPPATRIMENT_FILE_PATH=s3://foxon-mane-interflow/rappatriements.db",
        "AWS_ACCESS_KEY_ID=AKIAFROMDOTENV",
        "AWS_SECRET_ACCESS_KEY=secret-from-dotenv",
        "AWS_SESSION_TOKEN=session-from-dotenv",
        "",
      ].join("\n"),
    );
    const processEnv: Environment = {};
    expect(loadConfig(readEnvironment(processEnv, dir), processEnv).credentials).toEqual({
      accessKeyId: "AKIAFROMDOTENV",
      secretAccessKey: "secret-from-dotenv",
      sessionToken: "session-from-dotenv",
    });
  });

  test("end to end: keys in the process environment are not handed over", () => {
    const dir = tempDir(
      [
        "AWS_REGION=eu-west-1",
        "S3_RAPPATRIMENT_FILE_PATH=s3://foxon-mane-interflow/rappatriements.db",
        "AWS_ACCESS_KEY_ID=AKIAFROMDOTENV",
        "AWS_SECRET_ACCESS_KEY=secret-from-dotenv",
        "",
      ].join("\n"),
    );
    const processEnv: Environment = {
      AWS_ACCESS_KEY_ID: "AKIAPROCESS",
      AWS_SECRET_ACCESS_KEY: "process-secret",
    };
    expect(loadConfig(readEnvironment(processEnv, dir), processEnv).credentials).toBeUndefined();
  });

  test("end to end: a .env without AWS_REGION gives the guide's error", () => {
    const dir = tempDir("S3_RAPPATRIMENT_FILE_PATH=s3://foxon-mane-interflow/rappatriements.db\n");
    const processEnv: Environment = {};
    expect(() => loadConfig(readEnvironment(processEnv, dir), processEnv)).toThrow(
      "AWS_REGION est obligatoire",
    );
    expect(String(configError(readEnvironment(processEnv, dir)))).toBe(
      "ValueError: AWS_REGION est obligatoire",
    );
  });
});

describe("the commands' queues (set by the stack in the commands function, by an operator for the CLI)", () => {
  const QUEUE = {
    COMMANDS_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/commandes",
    COMMANDS_QUEUE_ARN: "arn:aws:sqs:eu-west-1:123456789012:commandes",
    COMMANDS_DEAD_LETTER_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/rejets",
  };

  test("every variable read, with the SQS and EventBridge endpoints", () => {
    const config = loadConfig(
      {
        ...GUIDE_ENV,
        ...QUEUE,
        COMMANDS_MAX_RECEIVE_COUNT: "3",
        COMMANDS_VISIBILITY_TIMEOUT_SECONDS: "60",
        AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:5000",
        AWS_ENDPOINT_URL_EVENTBRIDGE: "http://127.0.0.1:5001",
      },
      {},
    );
    expect(config.commands).toEqual({
      queueUrl: QUEUE.COMMANDS_QUEUE_URL,
      queueArn: QUEUE.COMMANDS_QUEUE_ARN,
      deadLetterQueueUrl: QUEUE.COMMANDS_DEAD_LETTER_QUEUE_URL,
      maxReceiveCount: 3,
      visibilityTimeoutSeconds: 60,
      sqsEndpoint: "http://127.0.0.1:5000",
      eventsEndpoint: "http://127.0.0.1:5001",
    });
  });

  test("AWS_ENDPOINT_URL serves every service that has no endpoint of its own", () => {
    const config = loadConfig({ ...GUIDE_ENV, AWS_ENDPOINT_URL: "http://127.0.0.1:7000" }, {});
    expect([
      config.s3Endpoint,
      config.commands.sqsEndpoint,
      config.commands.eventsEndpoint,
    ]).toEqual(["http://127.0.0.1:7000", "http://127.0.0.1:7000", "http://127.0.0.1:7000"]);
  });

  test.each([
    [
      { COMMANDS_QUEUE_URL: QUEUE.COMMANDS_QUEUE_URL },
      "COMMANDS_QUEUE_URL et COMMANDS_QUEUE_ARN vont ensemble : donnez les deux (sorties de la pile), ou aucun",
    ],
    [
      { COMMANDS_QUEUE_ARN: QUEUE.COMMANDS_QUEUE_ARN },
      "COMMANDS_QUEUE_URL et COMMANDS_QUEUE_ARN vont ensemble : donnez les deux (sorties de la pile), ou aucun",
    ],
    [
      { ...QUEUE, COMMANDS_QUEUE_ARN: "commandes" },
      "COMMANDS_QUEUE_ARN n'est pas l'ARN d'une file SQS (reçu : \"commandes\", exemple : arn:aws:sqs:eu-west-1:123456789012:commandes)",
    ],
    [
      { COMMANDS_DEAD_LETTER_QUEUE_URL: "rejets" },
      'COMMANDS_DEAD_LETTER_QUEUE_URL n\'est pas une URL http(s) (reçu : "rejets")',
    ],
    [
      { COMMANDS_MAX_RECEIVE_COUNT: "0" },
      'COMMANDS_MAX_RECEIVE_COUNT doit être un entier positif (reçu : "0")',
    ],
    [
      { COMMANDS_VISIBILITY_TIMEOUT_SECONDS: "3 min" },
      'COMMANDS_VISIBILITY_TIMEOUT_SECONDS doit être un entier positif (reçu : "3 min")',
    ],
    [
      { AWS_ENDPOINT_URL_SQS: "localhost:5000" },
      'AWS_ENDPOINT_URL_SQS n\'est pas une URL http(s) (reçu : "localhost:5000")',
    ],
  ])("%o is refused: %s", (extra, message) => {
    expect(configError({ ...GUIDE_ENV, ...extra }).message).toBe(message);
  });
});

describe("S3_SSE_KMS_KEY_ID (the KMS key the data object is written with)", () => {
  const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  test("unset: nothing is named, and every write asks for AES-256 (the guide's promise)", () => {
    expect(loadConfig(GUIDE_ENV, {}).sseKmsKeyId).toBeUndefined();
    expect(loadConfig({ ...GUIDE_ENV, S3_SSE_KMS_KEY_ID: "  " }, {}).sseKmsKeyId).toBeUndefined();
  });

  test.each([
    ["a key ARN, as the stack sets it", KEY_ARN],
    ["a key id", "1234abcd-12ab-34cd-56ef-1234567890ab"],
    ["a multi-Region key id", "mrk-1234abcd12ab34cd56ef1234567890ab"],
    [
      "a multi-Region key ARN in another partition",
      "arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    ],
  ])("%s is taken as given", (_label, value) => {
    expect(loadConfig({ ...GUIDE_ENV, S3_SSE_KMS_KEY_ID: ` ${value} ` }, {}).sseKmsKeyId).toBe(
      value,
    );
  });

  test.each([
    [
      "alias/rapatriements",
      'S3_SSE_KMS_KEY_ID doit nommer la clé KMS elle-même, pas un alias (reçu : "alias/rapatriements", exemple : arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab)',
    ],
    [
      "arn:aws:kms:eu-west-1:123456789012:alias/rapatriements",
      'S3_SSE_KMS_KEY_ID doit nommer la clé KMS elle-même, pas un alias (reçu : "arn:aws:kms:eu-west-1:123456789012:alias/rapatriements", exemple : arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab)',
    ],
    [
      "AES256",
      "S3_SSE_KMS_KEY_ID n'est ni l'ARN ni l'identifiant d'une clé KMS (reçu : \"AES256\", exemple : arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab)",
    ],
    [
      "arn:aws:kms:eu-west-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      "S3_SSE_KMS_KEY_ID n'est ni l'ARN ni l'identifiant d'une clé KMS (reçu : \"arn:aws:kms:eu-west-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab\", exemple : arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab)",
    ],
  ])("%s is refused with a ValueError naming the variable", (value, message) => {
    const error = configError({ ...GUIDE_ENV, S3_SSE_KMS_KEY_ID: value });
    expect(String(error)).toBe(`ValueError: ${message}`);
  });

  test("a malformed key is listed with the other problems, after the guide's", () => {
    expect(
      configProblems({ AWS_REGION: "eu-west-1", S3_SSE_KMS_KEY_ID: "ma-cle" }, {}).map(
        (problem) => problem.message,
      ),
    ).toEqual([
      "S3_RAPPATRIMENT_FILE_PATH est obligatoire",
      expect.stringMatching(/^S3_SSE_KMS_KEY_ID n'est ni l'ARN ni l'identifiant d'une clé KMS/),
    ]);
  });
});
