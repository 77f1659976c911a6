/**
 * Local tools: a job run after the current turn of the event loop (after an
 * answer has gone out), one run at a time; asked again while it runs, it
 * runs once more after. How `npm start` and the bench run the events
 * publisher after writes without ever holding a write's answer.
 */
export interface Coalesced {
  /** Runs the job soon; if it is running, once more when it ends. */
  soon(): void;
  /** Resolves when no run is under way or asked for. */
  settled(): Promise<void>;
}

export function coalesced(job: () => Promise<void>): Coalesced {
  let running: Promise<void> | undefined;
  let again = false;
  const loop = async () => {
    do {
      again = false;
      await job();
    } while (again);
    running = undefined;
  };
  return {
    soon() {
      if (running !== undefined) {
        again = true;
        return;
      }
      running = new Promise<void>((resolve) => setImmediate(resolve)).then(loop);
    },
    async settled() {
      while (running !== undefined) await running;
    },
  };
}
