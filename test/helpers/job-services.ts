import { VideoFetcher } from "../../src/jobs/download.js";
import type { JobServices } from "../../src/jobs/services.js";
import { silentLogger } from "../../src/log.js";

/**
 * The job flow's services for tests that drive it directly (no Discord): the parts a test is about are given,
 * the rest are quiet defaults. Videos are fetched from `videoOrigin` (the simulator), trusted like the API's.
 */
export function testJobServices(
  parts: Pick<JobServices, "db" | "kling" | "port" | "now" | "owner"> & {
    videoOrigin: string;
  } & Partial<Omit<JobServices, "download">>,
): JobServices {
  const { videoOrigin, ...given } = parts;
  return {
    logger: silentLogger(),
    signal: new AbortController().signal,
    announce: async () => {},
    alert: () => {},
    estimates: new Map(),
    ...given,
    download: new VideoFetcher({
      policy: { maxBytes: 50 * 1024 * 1024, totalTimeoutMs: 10_000, minBytesPerSecond: 0, graceMs: 1_000 },
      trustedOrigins: [videoOrigin],
    }),
    settings: {
      pollIntervalMs: 5_000,
      klingRatePerSecond: 5,
      progressIntervalMs: 10_000,
      jobTimeoutMs: 30 * 60_000,
      maxVideoBytes: 50 * 1024 * 1024,
      defaultGuildCredits: 0,
      leaseMs: 60_000,
      maxSubmitAttempts: 3,
      ...given.settings,
    },
  };
}
