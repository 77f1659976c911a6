/**
 * The events publisher's settings: the bus and its position's object, with
 * the defaults the stack relies on, and a clear refusal naming the variable.
 */
import { expect, test } from "vitest";
import { loadEventsConfig } from "../../lambda/config.ts";

const DATA_KEY = "rapatriements/rapatriements.db";

test("by default: the bus rapatriements, the position beside the data", () => {
  expect(loadEventsConfig({}, DATA_KEY)).toEqual({
    busName: "rapatriements",
    positionKey: "rapatriements/rapatriements.db.events-position.json",
  });
});

test("EVENT_BUS_NAME (a name or a bus ARN) and EVENTS_POSITION_KEY are taken as given", () => {
  const arn = "arn:aws:events:eu-west-1:123456789012:event-bus/rapatriements-prod";
  expect(
    loadEventsConfig(
      { EVENT_BUS_NAME: arn, EVENTS_POSITION_KEY: "events/position.json" },
      DATA_KEY,
    ),
  ).toEqual({ busName: arn, positionKey: "events/position.json" });
});

test("a bus name EventBridge would refuse, or the data key as the position, is a ValueError naming the variable", () => {
  expect(() => loadEventsConfig({ EVENT_BUS_NAME: "mon bus" }, DATA_KEY)).toThrow(
    expect.objectContaining({
      name: "ValueError",
      message: expect.stringContaining("EVENT_BUS_NAME"),
    }),
  );
  expect(() => loadEventsConfig({ EVENTS_POSITION_KEY: DATA_KEY }, DATA_KEY)).toThrow(
    expect.objectContaining({
      name: "ValueError",
      message: expect.stringContaining("EVENTS_POSITION_KEY"),
    }),
  );
});
