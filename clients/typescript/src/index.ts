/**
 * The TypeScript client of Marquee's HTTP API.
 *
 * `schema.ts` beside this file is generated from the OpenAPI contract
 * (openapi/openapi.yaml) by openapi-typescript (`npm run generate`, or
 * `make sdk` at the repository root) and is never edited by hand. Requests
 * go through openapi-fetch, which types every path, parameter, body and
 * answer from it:
 *
 * ```ts
 * const marquee = createMarqueeClient("http://127.0.0.1:8080");
 * const { data, error } = await marquee.GET("/api/recommendations", {
 *   params: { query: { user_id: "user_123", n: 10 } },
 * });
 * ```
 *
 * Pass `{ apiKey }` as the second argument when the node requires keys.
 * `data` is set on a success; otherwise `error` holds the RFC 9457 problem
 * document (a {@link Problem}) and `response` the raw answer.
 *
 * @module
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

type Schemas = components["schemas"];

/** One interaction, as `POST /api/events` takes it. */
export type EventIn = Schemas["EventIn"];
/** A batch of up to 1,000 events. */
export type EventBatchIn = Schemas["EventBatchIn"];
/** The body of `POST /api/events`: one event or a batch. */
export type EventsRequest = Schemas["EventsRequest"];
/** The 202 answer of `POST /api/events`, with a result per event. */
export type EventsAccepted = Schemas["EventsAcceptedBody"];
/** A served list: its items, the tier that served it and its `rec_log_id`. */
export type Recommendations = Schemas["Recommendations"];
/** One recommended movie. */
export type RecItem = Schemas["RecItem"];
/** A catalog entry. */
export type Movie = Schemas["Movie"];
/** A training job. */
export type Job = Schemas["Job"];
/** A trained model of the registry. */
export type Model = Schemas["Model"];
/** Every error answer: an RFC 9457 problem document naming the bad fields. */
export type Problem = Schemas["ErrorModel"];

/** A client of one Marquee node. */
export type MarqueeClient = Client<paths>;

/** Options of {@link createMarqueeClient}: openapi-fetch's, and the API key. */
export interface MarqueeClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /**
   * The API key to send with every request (as `Authorization: Bearer`).
   * Marquee needs a key holding the scope each operation lists (`ingest`,
   * `read` or `admin`) and answers 401 or 403 otherwise; only a node in its
   * embedded development mode runs open.
   */
  apiKey?: string;
}

/**
 * Returns a client of the Marquee node at baseUrl (such as
 * "http://127.0.0.1:8080"). Options are openapi-fetch's (headers, a custom
 * fetch, ...) and `apiKey`.
 */
export function createMarqueeClient(baseUrl: string, options: MarqueeClientOptions = {}): MarqueeClient {
  const { apiKey, ...rest } = options;
  const client = createClient<paths>({ ...rest, baseUrl: baseUrl.replace(/\/+$/, "") });
  if (apiKey) {
    client.use({
      onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${apiKey}`);
        return request;
      },
    });
  }
  return client;
}

/** MarqueeError is a failed call, with the problem document Marquee answered. */
export class MarqueeError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    const details = (problem?.errors ?? []).map((e) => `${e.location ?? ""}: ${e.message ?? ""}`);
    super(
      `marquee: ${status} ${problem?.title ?? ""}${problem?.detail ? `: ${problem.detail}` : ""}` +
        (details.length ? ` (${details.join("; ")})` : ""),
    );
    this.name = "MarqueeError";
  }
}

/**
 * Returns the data of a call's result and throws a MarqueeError when it
 * failed, for code that would rather handle errors with try/catch:
 *
 * ```ts
 * const recs = check(await marquee.GET("/api/recommendations", { params: { query: { user_id: "u" } } }));
 * ```
 */
export function check<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined || !result.response.ok) {
    throw new MarqueeError(result.response.status, result.error as Problem | undefined);
  }
  return result.data;
}
