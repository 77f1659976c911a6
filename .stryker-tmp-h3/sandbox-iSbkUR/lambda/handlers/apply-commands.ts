/**
 * Entry adapter: the commands of DESIGN.md (create, update, delete) from
 * events. Three callers, one handler:
 *
 * - SQS (fed by the EventBridge rule): the batch is one transaction on the
 *   object — one load, each command in its own savepoint, one PUT. A command
 *   that fails is reported alone in `batchItemFailures`; a malformed message
 *   is a failure of that message, never of the batch.
 * - EventBridge directly: one command in `detail`.
 * - Direct invocation: one command or an array; the result of each is returned.
 *
 * Redelivery changes nothing: each command is applied under a receipt key —
 * its idempotency key, else the EventBridge event id, else the SQS message id.
 */
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { AppError, ValidationError } from "../errors.ts";
import { CommandProcessor, type CommandResult } from "../rapatriements/commands.ts";
import type { Actor } from "../rapatriements/model.ts";
import { receiptKey } from "../rapatriements/receipts.ts";
import { emptyReport, type TransactionOptions } from "../storage/database-object.ts";
import type { Database } from "../storage/sql-js.ts";
import { containerDefaults, type HandlerDeps, transactionOptions } from "./dependencies.ts";
import { codeOf, describeError, round, storageFields } from "./log-line.ts";
import { metricFields } from "./metrics.ts";
export type CommandOutcome = {
  ok: true;
} & CommandResult | {
  ok: false;
  error: {
    status: number;
    code: string;
    message: string;
    errors?: unknown;
  };
};
interface Item {
  /** The SQS message id, the EventBridge event id, or the position in a direct call. */
  id: string;
  command?: unknown;
  /** Why the message could not even be read as a command. */
  unreadable?: Error;
  receiptKey?: string;
  /** Who sent it, as its carrier says: see `COMMAND_ACTORS`. */
  actor: Actor;
}

/**
 * Who a command is recorded as coming from (`createdBy`/`updatedBy`), read
 * from what carried it, never from the command: the EventBridge event's
 * `source` (which the bus's permissions control, not this function), the SQS
 * message's `SenderId` attribute (the sending principal's id, set by SQS), or,
 * for a direct invocation, which Lambda does not attribute to a caller,
 * `lambda:direct-invocation` (CloudTrail's Invoke events name the caller).
 */
export const COMMAND_ACTORS = stryMutAct_9fa48("0") ? {} : (stryCov_9fa48("0"), {
  eventBridge: stryMutAct_9fa48("1") ? () => undefined : (stryCov_9fa48("1"), (source: string): Actor => stryMutAct_9fa48("2") ? `` : (stryCov_9fa48("2"), `eventbridge:${source}`)),
  sqs: stryMutAct_9fa48("3") ? () => undefined : (stryCov_9fa48("3"), (senderId: string | undefined): Actor => (stryMutAct_9fa48("6") ? senderId === undefined && senderId === "" : stryMutAct_9fa48("5") ? false : stryMutAct_9fa48("4") ? true : (stryCov_9fa48("4", "5", "6"), (stryMutAct_9fa48("8") ? senderId !== undefined : stryMutAct_9fa48("7") ? false : (stryCov_9fa48("7", "8"), senderId === undefined)) || (stryMutAct_9fa48("10") ? senderId !== "" : stryMutAct_9fa48("9") ? false : (stryCov_9fa48("9", "10"), senderId === (stryMutAct_9fa48("11") ? "Stryker was here!" : (stryCov_9fa48("11"), "")))))) ? null : stryMutAct_9fa48("12") ? `` : (stryCov_9fa48("12"), `sqs:${senderId}`)),
  direct: "lambda:direct-invocation" as Actor
});

/** A command that failed, as the log line lists it. */
interface Failed {
  id: string;
  code: string;
  /** Handed back to SQS for another delivery. */
  retry: boolean;
  message?: string;
  errors?: unknown;
}
interface EventBridgeEnvelope {
  id: string;
  source: string;
  "detail-type": string;
  detail: unknown;
}
export function createCommandsHandler(deps: HandlerDeps) {
  if (stryMutAct_9fa48("13")) {
    {}
  } else {
    stryCov_9fa48("13");
    return middy<unknown, unknown>().handler(async (event, context: Context) => {
      if (stryMutAct_9fa48("14")) {
        {}
      } else {
        stryCov_9fa48("14");
        const started = performance.now();
        const report = emptyReport();
        const options = transactionOptions(context, report);
        const source = isSqsEvent(event) ? stryMutAct_9fa48("15") ? "" : (stryCov_9fa48("15"), "sqs") : isEventBridge(event) ? stryMutAct_9fa48("16") ? "" : (stryCov_9fa48("16"), "eventbridge") : stryMutAct_9fa48("17") ? "" : (stryCov_9fa48("17"), "direct");
        const items = (stryMutAct_9fa48("20") ? source !== "sqs" : stryMutAct_9fa48("19") ? false : stryMutAct_9fa48("18") ? true : (stryCov_9fa48("18", "19", "20"), source === (stryMutAct_9fa48("21") ? "" : (stryCov_9fa48("21"), "sqs")))) ? (event as SQSEvent).Records.map(fromSqsRecord) : (stryMutAct_9fa48("24") ? source !== "eventbridge" : stryMutAct_9fa48("23") ? false : stryMutAct_9fa48("22") ? true : (stryCov_9fa48("22", "23", "24"), source === (stryMutAct_9fa48("25") ? "" : (stryCov_9fa48("25"), "eventbridge")))) ? stryMutAct_9fa48("26") ? [] : (stryCov_9fa48("26"), [fromEnvelope(event as EventBridgeEnvelope)]) : fromDirect(event);
        let outcomes: CommandOutcome[];
        let failure: unknown;
        try {
          if (stryMutAct_9fa48("27")) {
            {}
          } else {
            stryCov_9fa48("27");
            outcomes = await applyBatch(deps, items, options);
          }
        } catch (error) {
          if (stryMutAct_9fa48("28")) {
            {}
          } else {
            stryCov_9fa48("28");
            // Nothing could be applied (configuration, storage): every command failed.
            failure = error;
            outcomes = items.map(stryMutAct_9fa48("29") ? () => undefined : (stryCov_9fa48("29"), () => stryMutAct_9fa48("30") ? {} : (stryCov_9fa48("30"), {
              ok: stryMutAct_9fa48("31") ? true : (stryCov_9fa48("31"), false),
              error: summarise(error)
            })));
          }
        }
        const failed = items.flatMap((item, i) => {
          if (stryMutAct_9fa48("32")) {
            {}
          } else {
            stryCov_9fa48("32");
            const outcome = outcomes[i];
            // Stryker disable next-line OptionalChaining: both ways above give every item an outcome; `?.` is for the type only
            if (stryMutAct_9fa48("35") ? outcome?.ok === false : stryMutAct_9fa48("34") ? false : stryMutAct_9fa48("33") ? true : (stryCov_9fa48("33", "34", "35"), outcome?.ok !== (stryMutAct_9fa48("37") ? true : (stryCov_9fa48("37"), false)))) return stryMutAct_9fa48("38") ? ["Stryker was here"] : (stryCov_9fa48("38"), []);
            const retry = mayPassOnRetry(outcome.error.status);
            const entry: Failed = stryMutAct_9fa48("39") ? {} : (stryCov_9fa48("39"), {
              id: item.id,
              code: outcome.error.code,
              retry
            });
            // A refused command is not delivered again: its entry is all that is
            // left of it, so it says why (the message, and the fields at fault).
            if (stryMutAct_9fa48("42") ? false : stryMutAct_9fa48("41") ? true : stryMutAct_9fa48("40") ? retry : (stryCov_9fa48("40", "41", "42"), !retry)) {
              if (stryMutAct_9fa48("43")) {
                {}
              } else {
                stryCov_9fa48("43");
                entry.message = outcome.error.message;
                // Stryker disable next-line ConditionalExpression: the log line is JSON, where a field set to undefined is absent, as an unset one
                if (stryMutAct_9fa48("46") ? outcome.error.errors === undefined : (stryCov_9fa48("46"), outcome.error.errors !== undefined)) entry.errors = outcome.error.errors;
              }
            }
            return stryMutAct_9fa48("47") ? [] : (stryCov_9fa48("47"), [entry]);
          }
        });
        // A refused command is dropped from the queue: the log line is where it is found.
        const refused = stryMutAct_9fa48("48") ? failed.every(f => !f.retry) : (stryCov_9fa48("48"), failed.some(stryMutAct_9fa48("49") ? () => undefined : (stryCov_9fa48("49"), f => stryMutAct_9fa48("50") ? f.retry : (stryCov_9fa48("50"), !f.retry))));
        const line: Record<string, unknown> = stryMutAct_9fa48("51") ? {} : (stryCov_9fa48("51"), {
          level: (stryMutAct_9fa48("54") ? failure !== undefined && refused : stryMutAct_9fa48("53") ? false : stryMutAct_9fa48("52") ? true : (stryCov_9fa48("52", "53", "54"), (stryMutAct_9fa48("56") ? failure === undefined : stryMutAct_9fa48("55") ? false : (stryCov_9fa48("55", "56"), failure !== undefined)) || refused)) ? stryMutAct_9fa48("57") ? "" : (stryCov_9fa48("57"), "error") : (stryMutAct_9fa48("61") ? failed.length <= 0 : stryMutAct_9fa48("60") ? failed.length >= 0 : stryMutAct_9fa48("59") ? false : stryMutAct_9fa48("58") ? true : (stryCov_9fa48("58", "59", "60", "61"), failed.length > 0)) ? stryMutAct_9fa48("62") ? "" : (stryCov_9fa48("62"), "warn") : stryMutAct_9fa48("63") ? "" : (stryCov_9fa48("63"), "info"),
          time: new Date().toISOString(),
          requestId: context.awsRequestId,
          route: stryMutAct_9fa48("64") ? "" : (stryCov_9fa48("64"), "commands"),
          source,
          commands: items.length,
          succeeded: stryMutAct_9fa48("65") ? items.length + failed.length : (stryCov_9fa48("65"), items.length - failed.length),
          failed,
          // Who sent the batch's commands, each once (a batch holds at most 100).
          callers: stryMutAct_9fa48("66") ? [] : (stryCov_9fa48("66"), [...new Set(items.map(stryMutAct_9fa48("67") ? () => undefined : (stryCov_9fa48("67"), item => item.actor)))]),
          durationMs: round(stryMutAct_9fa48("68") ? performance.now() + started : (stryCov_9fa48("68"), performance.now() - started)),
          ...storageFields(report)
        });
        if (stryMutAct_9fa48("71") ? failure === undefined : stryMutAct_9fa48("70") ? false : stryMutAct_9fa48("69") ? true : (stryCov_9fa48("69", "70", "71"), failure !== undefined)) {
          if (stryMutAct_9fa48("72")) {
            {}
          } else {
            stryCov_9fa48("72");
            line.code = codeOf(failure);
            line.error = describeError(failure);
          }
        }
        const codes = failed.map(stryMutAct_9fa48("73") ? () => undefined : (stryCov_9fa48("73"), f => f.code));
        const gauge = (stryMutAct_9fa48("76") ? failure !== undefined : stryMutAct_9fa48("75") ? false : stryMutAct_9fa48("74") ? true : (stryCov_9fa48("74", "75", "76"), failure === undefined)) ? (await deps.dependencies()).gauge : undefined;
        deps.log(stryMutAct_9fa48("78") ? {} : (stryCov_9fa48("78"), {
          ...line,
          ...metricFields(stryMutAct_9fa48("79") ? {} : (stryCov_9fa48("79"), {
            report,
            codes,
            gauge,
            batchSize: items.length
          }))
        }));
        if (stryMutAct_9fa48("82") ? source !== "sqs" : stryMutAct_9fa48("81") ? false : stryMutAct_9fa48("80") ? true : (stryCov_9fa48("80", "81", "82"), source === (stryMutAct_9fa48("83") ? "" : (stryCov_9fa48("83"), "sqs")))) {
          if (stryMutAct_9fa48("84")) {
            {}
          } else {
            stryCov_9fa48("84");
            // Only what a redelivery could change is handed back to SQS; a refused
            // command would be refused the same way five times, then dead-lettered.
            const response: SQSBatchResponse = stryMutAct_9fa48("85") ? {} : (stryCov_9fa48("85"), {
              batchItemFailures: stryMutAct_9fa48("86") ? failed.map(f => ({
                itemIdentifier: f.id
              })) : (stryCov_9fa48("86"), failed.filter(stryMutAct_9fa48("87") ? () => undefined : (stryCov_9fa48("87"), f => f.retry)).map(stryMutAct_9fa48("88") ? () => undefined : (stryCov_9fa48("88"), f => stryMutAct_9fa48("89") ? {} : (stryCov_9fa48("89"), {
                itemIdentifier: f.id
              }))))
            });
            return response;
          }
        }
        const [first] = outcomes;
        if (stryMutAct_9fa48("92") ? source !== "eventbridge" : stryMutAct_9fa48("91") ? false : stryMutAct_9fa48("90") ? true : (stryCov_9fa48("90", "91", "92"), source === (stryMutAct_9fa48("93") ? "" : (stryCov_9fa48("93"), "eventbridge")))) {
          if (stryMutAct_9fa48("94")) {
            {}
          } else {
            stryCov_9fa48("94");
            // A failure that may pass is thrown, so that Lambda retries the event;
            // a command that is refused stays refused and is only logged.
            if (stryMutAct_9fa48("97") ? failure !== undefined && first?.ok === false && mayPassOnRetry(first.error.status) : stryMutAct_9fa48("96") ? false : stryMutAct_9fa48("95") ? true : (stryCov_9fa48("95", "96", "97"), (stryMutAct_9fa48("99") ? failure === undefined : stryMutAct_9fa48("98") ? false : (stryCov_9fa48("98", "99"), failure !== undefined)) || (stryMutAct_9fa48("101") ? first?.ok === false || mayPassOnRetry(first.error.status) : stryMutAct_9fa48("100") ? false : (stryCov_9fa48("100", "101"), (stryMutAct_9fa48("103") ? first?.ok !== false : stryMutAct_9fa48("102") ? true : (stryCov_9fa48("102", "103"), (stryMutAct_9fa48("104") ? first.ok : (stryCov_9fa48("104"), first?.ok)) === (stryMutAct_9fa48("105") ? true : (stryCov_9fa48("105"), false)))) && mayPassOnRetry(first.error.status))))) {
              if (stryMutAct_9fa48("106")) {
                {}
              } else {
                stryCov_9fa48("106");
                throw stryMutAct_9fa48("107") ? failure && new Error(first?.ok === false ? first.error.message : "failed") : (stryCov_9fa48("107"), failure ?? new Error((stryMutAct_9fa48("110") ? first?.ok !== false : stryMutAct_9fa48("109") ? false : stryMutAct_9fa48("108") ? true : (stryCov_9fa48("108", "109", "110"), (stryMutAct_9fa48("111") ? first.ok : (stryCov_9fa48("111"), first?.ok)) === (stryMutAct_9fa48("112") ? true : (stryCov_9fa48("112"), false)))) ? first.error.message : stryMutAct_9fa48("113") ? "" : (stryCov_9fa48("113"), "failed")));
              }
            }
            return first;
          }
        }
        return Array.isArray(event) ? outcomes : first;
      }
    });
  }
}

/** Prepares every readable command and applies them all in one round: one load, one PUT. */
async function applyBatch(deps: HandlerDeps, items: Item[], options: TransactionOptions): Promise<CommandOutcome[]> {
  if (stryMutAct_9fa48("114")) {
    {}
  } else {
    stryCov_9fa48("114");
    const {
      service,
      store
    } = await deps.dependencies();
    const processor = new CommandProcessor(service);
    const outcomes: (CommandOutcome | undefined)[] = items.map(() => undefined);
    const prepared: {
      index: number;
      apply: (db: Database) => CommandResult;
    }[] = stryMutAct_9fa48("115") ? ["Stryker was here"] : (stryCov_9fa48("115"), []);
    items.forEach((item, index) => {
      if (stryMutAct_9fa48("117")) {
        {}
      } else {
        stryCov_9fa48("117");
        try {
          if (stryMutAct_9fa48("118")) {
            {}
          } else {
            stryCov_9fa48("118");
            if (stryMutAct_9fa48("121") ? item.unreadable === undefined : stryMutAct_9fa48("120") ? false : stryMutAct_9fa48("119") ? true : (stryCov_9fa48("119", "120", "121"), item.unreadable !== undefined)) throw item.unreadable;
            prepared.push(stryMutAct_9fa48("123") ? {} : (stryCov_9fa48("123"), {
              index,
              apply: processor.prepare(item.command, item.receiptKey, item.actor)
            }));
          }
        } catch (error) {
          if (stryMutAct_9fa48("124")) {
            {}
          } else {
            stryCov_9fa48("124");
            outcomes[index] = stryMutAct_9fa48("125") ? {} : (stryCov_9fa48("125"), {
              ok: stryMutAct_9fa48("126") ? true : (stryCov_9fa48("126"), false),
              error: summarise(error)
            });
          }
        }
      }
    });
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a batch of no writes loads nothing and sends nothing; the test only saves a call
    if (prepared.length > 0) {
      if (stryMutAct_9fa48("131")) {
        {}
      } else {
        stryCov_9fa48("131");
        const settled = await store.writeBatch(prepared.map(stryMutAct_9fa48("132") ? () => undefined : (stryCov_9fa48("132"), p => p.apply)), options);
        settled.forEach((result, i) => {
          if (stryMutAct_9fa48("134")) {
            {}
          } else {
            stryCov_9fa48("134");
            // Stryker disable next-line OptionalChaining: allSettled answers once per prepared write, in order; `?.` is for the type only
            const index = prepared[i]?.index;
            // Stryker disable next-line ConditionalExpression: as above, never undefined
            if (stryMutAct_9fa48("138") ? index !== undefined : (stryCov_9fa48("138"), index === undefined)) return;
            outcomes[index] = (stryMutAct_9fa48("141") ? result.status !== "fulfilled" : stryMutAct_9fa48("140") ? false : stryMutAct_9fa48("139") ? true : (stryCov_9fa48("139", "140", "141"), result.status === (stryMutAct_9fa48("142") ? "" : (stryCov_9fa48("142"), "fulfilled")))) ? stryMutAct_9fa48("143") ? {} : (stryCov_9fa48("143"), {
              ok: stryMutAct_9fa48("144") ? false : (stryCov_9fa48("144"), true),
              ...result.value
            }) : stryMutAct_9fa48("145") ? {} : (stryCov_9fa48("145"), {
              ok: stryMutAct_9fa48("146") ? true : (stryCov_9fa48("146"), false),
              error: summarise(result.reason)
            });
          }
        });
      }
    }
    // Stryker disable next-line ObjectLiteral,BooleanLiteral,StringLiteral: every item has its outcome by now; the fallback is for the type only
    return outcomes.map(stryMutAct_9fa48("147") ? () => undefined : (stryCov_9fa48("147"), o => stryMutAct_9fa48("148") ? o && {
      ok: false,
      error: summarise(new Error("not applied"))
    } : (stryCov_9fa48("148"), o ?? {
      ok: false,
      error: summarise(new Error("not applied"))
    })));
  }
}

/**
 * Whether delivering the command again could end otherwise: a fault of the
 * storage or of the function (5xx: busy, outcome unknown, S3 unreachable),
 * or a record not found, since a queue does not keep order and the command
 * that creates it may still be on its way. A refusal (invalid command, rule,
 * stale version, reused key) would be refused again.
 */
function mayPassOnRetry(status: number): boolean {
  if (stryMutAct_9fa48("152")) {
    {}
  } else {
    stryCov_9fa48("152");
    return stryMutAct_9fa48("155") ? status >= 500 && status === 404 : stryMutAct_9fa48("154") ? false : stryMutAct_9fa48("153") ? true : (stryCov_9fa48("153", "154", "155"), (stryMutAct_9fa48("158") ? status < 500 : stryMutAct_9fa48("157") ? status > 500 : stryMutAct_9fa48("156") ? false : (stryCov_9fa48("156", "157", "158"), status >= 500)) || (stryMutAct_9fa48("160") ? status !== 404 : stryMutAct_9fa48("159") ? false : (stryCov_9fa48("159", "160"), status === 404)));
  }
}
function fromSqsRecord(record: SQSRecord): Item {
  if (stryMutAct_9fa48("161")) {
    {}
  } else {
    stryCov_9fa48("161");
    const item: Item = stryMutAct_9fa48("162") ? {} : (stryCov_9fa48("162"), {
      id: record.messageId,
      receiptKey: receiptKey.sqsMessage(record.messageId),
      // Stryker disable next-line OptionalChaining: SQS always sends the attributes; `?.` guards a hand-made event
      actor: COMMAND_ACTORS.sqs(record.attributes?.SenderId)
    });
    let body: unknown;
    try {
      if (stryMutAct_9fa48("164")) {
        {}
      } else {
        stryCov_9fa48("164");
        body = JSON.parse(record.body);
      }
    } catch (error) {
      if (stryMutAct_9fa48("165")) {
        {}
      } else {
        stryCov_9fa48("165");
        item.unreadable = new ValidationError(stryMutAct_9fa48("166") ? [] : (stryCov_9fa48("166"), [stryMutAct_9fa48("167") ? {} : (stryCov_9fa48("167"), {
          path: stryMutAct_9fa48("168") ? "" : (stryCov_9fa48("168"), "body"),
          message: stryMutAct_9fa48("169") ? `` : (stryCov_9fa48("169"), `the message is not JSON (${(error as Error).message})`)
        })]));
        return item;
      }
    }
    if (stryMutAct_9fa48("171") ? false : stryMutAct_9fa48("170") ? true : (stryCov_9fa48("170", "171"), isEventBridge(body))) {
      if (stryMutAct_9fa48("172")) {
        {}
      } else {
        stryCov_9fa48("172");
        // Sent by the EventBridge rule: the event id survives a duplicate delivery.
        item.command = body.detail;
        item.receiptKey = receiptKey.event(body.id);
        // The sender of the message is EventBridge itself: the event's source says more.
        item.actor = COMMAND_ACTORS.eventBridge(body.source);
      }
    } else {
      if (stryMutAct_9fa48("173")) {
        {}
      } else {
        stryCov_9fa48("173");
        item.command = body;
      }
    }
    return item;
  }
}
function fromEnvelope(event: EventBridgeEnvelope): Item {
  if (stryMutAct_9fa48("174")) {
    {}
  } else {
    stryCov_9fa48("174");
    return stryMutAct_9fa48("175") ? {} : (stryCov_9fa48("175"), {
      id: event.id,
      command: event.detail,
      receiptKey: receiptKey.event(event.id),
      actor: COMMAND_ACTORS.eventBridge(event.source)
    });
  }
}
function fromDirect(event: unknown): Item[] {
  if (stryMutAct_9fa48("176")) {
    {}
  } else {
    stryCov_9fa48("176");
    const commands = Array.isArray(event) ? event : stryMutAct_9fa48("177") ? [] : (stryCov_9fa48("177"), [event]);
    return commands.map(stryMutAct_9fa48("178") ? () => undefined : (stryCov_9fa48("178"), (command, i) => stryMutAct_9fa48("179") ? {} : (stryCov_9fa48("179"), {
      id: String(i),
      command,
      actor: COMMAND_ACTORS.direct
    })));
  }
}
function isSqsEvent(event: unknown): event is SQSEvent {
  if (stryMutAct_9fa48("180")) {
    {}
  } else {
    stryCov_9fa48("180");
    const records = stryMutAct_9fa48("181") ? (event as {
      Records?: unknown;
    } | null).Records : (stryCov_9fa48("181"), (event as {
      Records?: unknown;
    } | null)?.Records);
    return stryMutAct_9fa48("184") ? Array.isArray(records) || records.every(r => (r as {
      eventSource?: unknown;
    })?.eventSource === "aws:sqs") : stryMutAct_9fa48("183") ? false : stryMutAct_9fa48("182") ? true : (stryCov_9fa48("182", "183", "184"), Array.isArray(records) && (stryMutAct_9fa48("185") ? records.some(r => (r as {
      eventSource?: unknown;
    })?.eventSource === "aws:sqs") : (stryCov_9fa48("185"), records.every(stryMutAct_9fa48("186") ? () => undefined : (stryCov_9fa48("186"), r => stryMutAct_9fa48("189") ? (r as {
      eventSource?: unknown;
    })?.eventSource !== "aws:sqs" : stryMutAct_9fa48("188") ? false : stryMutAct_9fa48("187") ? true : (stryCov_9fa48("187", "188", "189"), (stryMutAct_9fa48("190") ? (r as {
      eventSource?: unknown;
    }).eventSource : (stryCov_9fa48("190"), (r as {
      eventSource?: unknown;
    })?.eventSource)) === (stryMutAct_9fa48("191") ? "" : (stryCov_9fa48("191"), "aws:sqs"))))))));
  }
}
function isEventBridge(event: unknown): event is EventBridgeEnvelope {
  if (stryMutAct_9fa48("192")) {
    {}
  } else {
    stryCov_9fa48("192");
    if (stryMutAct_9fa48("195") ? (typeof event !== "object" || event === null) && Array.isArray(event) : stryMutAct_9fa48("194") ? false : stryMutAct_9fa48("193") ? true : (stryCov_9fa48("193", "194", "195"), (stryMutAct_9fa48("197") ? typeof event !== "object" && event === null : stryMutAct_9fa48("196") ? false : (stryCov_9fa48("196", "197"), (stryMutAct_9fa48("199") ? typeof event === "object" : stryMutAct_9fa48("198") ? false : (stryCov_9fa48("198", "199"), typeof event !== (stryMutAct_9fa48("200") ? "" : (stryCov_9fa48("200"), "object")))) || (stryMutAct_9fa48("202") ? event !== null : stryMutAct_9fa48("201") ? false : (stryCov_9fa48("201", "202"), event === null)))) || Array.isArray(event))) return stryMutAct_9fa48("203") ? true : (stryCov_9fa48("203"), false);
    const e = event as Record<string, unknown>;
    return stryMutAct_9fa48("206") ? typeof e.id === "string" && typeof e.source === "string" && typeof e["detail-type"] === "string" || "detail" in e : stryMutAct_9fa48("205") ? false : stryMutAct_9fa48("204") ? true : (stryCov_9fa48("204", "205", "206"), (stryMutAct_9fa48("208") ? typeof e.id === "string" && typeof e.source === "string" || typeof e["detail-type"] === "string" : stryMutAct_9fa48("207") ? true : (stryCov_9fa48("207", "208"), (stryMutAct_9fa48("210") ? typeof e.id === "string" || typeof e.source === "string" : stryMutAct_9fa48("209") ? true : (stryCov_9fa48("209", "210"), (stryMutAct_9fa48("212") ? typeof e.id !== "string" : stryMutAct_9fa48("211") ? true : (stryCov_9fa48("211", "212"), typeof e.id === (stryMutAct_9fa48("213") ? "" : (stryCov_9fa48("213"), "string")))) && (stryMutAct_9fa48("215") ? typeof e.source !== "string" : stryMutAct_9fa48("214") ? true : (stryCov_9fa48("214", "215"), typeof e.source === (stryMutAct_9fa48("216") ? "" : (stryCov_9fa48("216"), "string")))))) && (stryMutAct_9fa48("218") ? typeof e["detail-type"] !== "string" : stryMutAct_9fa48("217") ? true : (stryCov_9fa48("217", "218"), typeof e[stryMutAct_9fa48("219") ? "" : (stryCov_9fa48("219"), "detail-type")] === (stryMutAct_9fa48("220") ? "" : (stryCov_9fa48("220"), "string")))))) && (stryMutAct_9fa48("221") ? "" : (stryCov_9fa48("221"), "detail")) in e);
  }
}

/** An error as a caller of the commands may see it: detail only for errors meant for them. */
function summarise(error: unknown): Extract<CommandOutcome, {
  ok: false;
}>["error"] {
  if (stryMutAct_9fa48("222")) {
    {}
  } else {
    stryCov_9fa48("222");
    if (stryMutAct_9fa48("225") ? error instanceof AppError || error.expose : stryMutAct_9fa48("224") ? false : stryMutAct_9fa48("223") ? true : (stryCov_9fa48("223", "224", "225"), error instanceof AppError && error.expose)) {
      if (stryMutAct_9fa48("226")) {
        {}
      } else {
        stryCov_9fa48("226");
        const summary: Extract<CommandOutcome, {
          ok: false;
        }>["error"] = stryMutAct_9fa48("227") ? {} : (stryCov_9fa48("227"), {
          status: error.status,
          code: error.code,
          message: error.message
        });
        // Stryker disable next-line ConditionalExpression: Lambda answers in JSON, where a field set to undefined is absent, as an unset one
        if (stryMutAct_9fa48("230") ? error.errors === undefined : (stryCov_9fa48("230"), error.errors !== undefined)) summary.errors = error.errors;
        return summary;
      }
    }
    return stryMutAct_9fa48("231") ? {} : (stryCov_9fa48("231"), {
      status: 500,
      code: codeOf(error),
      message: stryMutAct_9fa48("232") ? "" : (stryCov_9fa48("232"), "An internal error occurred; see the function's log.")
    });
  }
}
export const handler = createCommandsHandler(containerDefaults());