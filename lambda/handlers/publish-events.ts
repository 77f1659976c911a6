/**
 * Entry adapters: PLACEHOLDER for the events publisher (issue 28), so that
 * the stack synthesizes on the infra branch. The runtime branch writes the
 * real handler at this path; on merge, take that one and drop this file.
 */
export async function handler(): Promise<never> {
  throw new Error("publish-events: placeholder, the publisher is written on the runtime branch");
}
