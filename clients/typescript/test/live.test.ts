// The SDK against a live Marquee: the test builds `marquee` from this
// repository (or runs $MARQUEE_BIN), starts it embedded on a free loopback
// port with a small demo, and talks to it only through the SDK.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { check, createMarqueeClient, MarqueeError, type MarqueeClient } from "../src/index.js";

// dist/test/ → the repository root.
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

let server: ChildProcess | undefined;
let output = "";
let workDir = "";
let marquee: MarqueeClient;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output.slice(-2000)}`);
    await sleep(50);
  }
}

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), "marquee-ts-"));
  let bin = process.env.MARQUEE_BIN;
  if (!bin) {
    bin = join(workDir, "marquee");
    execFileSync("go", ["build", "-o", bin, "./cmd/marquee"], { cwd: repo, stdio: "inherit" });
  }
  const port = await freePort();
  server = spawn(bin, ["serve", "-addr", `127.0.0.1:${port}`], {
    env: { ...process.env, MARQUEE_DEMO_USERS: "100", MARQUEE_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<never>((_, fail) =>
    server!.once("exit", (code) => fail(new Error(`marquee exited (${code}) before it was ready:\n${output}`))),
  );
  server.stdout!.on("data", (b: Buffer) => (output += b.toString()));
  server.stderr!.on("data", (b: Buffer) => (output += b.toString()));
  marquee = createMarqueeClient(`http://127.0.0.1:${port}`);
  await Promise.race([
    exited,
    until("/readyz", async () => ((await marquee.GET("/readyz")).data?.status === "ready" ? true : undefined), 60_000),
  ]);
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((ok) => server!.once("exit", ok));
    server.kill("SIGTERM");
    const timeout = setTimeout(() => server?.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timeout);
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test("liveness and readiness", async () => {
  assert.equal(check(await marquee.GET("/healthz")).status, "ok");
  assert.equal(check(await marquee.GET("/readyz")).status, "ready");
});

test("events change the next recommendations", async () => {
  const user = "ts-user";
  const first = check(await marquee.GET("/api/recommendations", { params: { query: { user_id: user, n: 5 } } }));
  assert.equal(first.tier, "popular", "a new user gets popular movies");
  assert.equal(first.items?.length, 5);
  assert.ok(first.rec_log_id);
  const [a, b] = (first.items ?? []).map((it) => it.movie_id);
  assert.ok(a && b);

  // One event: a click on the first movie of the list, with its rec_log_id.
  const one = await marquee.POST("/api/events", {
    body: { event_id: "ts-evt-1", user_id: user, movie_id: a, type: "click", rec_log_id: first.rec_log_id },
  });
  assert.equal(one.response.status, 202);
  assert.equal(one.data?.accepted, 1);

  // A batch: each event is validated on its own.
  const batch = check(
    await marquee.POST("/api/events", {
      body: {
        events: [
          { event_id: "ts-evt-2", user_id: user, movie_id: b, type: "rating", value: 4.5 },
          { user_id: user, movie_id: "no-such-movie", type: "like" },
        ],
      },
    }),
  );
  assert.deepEqual([batch.accepted, batch.rejected], [1, 1]);
  assert.equal(batch.results?.[1]?.status, "rejected");
  assert.equal(batch.results?.[1]?.errors?.[0]?.location, "body.events[1].movie_id");

  // Applied within milliseconds: the history has both, and the next list
  // leaves out what the user has seen.
  const history = await until("the events to be applied", async () => {
    const h = check(await marquee.GET("/api/users/{id}/history", { params: { path: { id: user } } }));
    return h.total === 2 ? h : undefined;
  });
  const click = history.events?.find((e) => e.event_id === "ts-evt-1");
  assert.equal(click?.rec_log_id, first.rec_log_id);
  const next = check(await marquee.GET("/api/recommendations", { params: { query: { user_id: user, n: 5 } } }));
  const ids = (next.items ?? []).map((it) => it.movie_id);
  assert.ok(!ids.includes(a) && !ids.includes(b), `seen movies recommended: ${ids}`);
});

test("what the catalog owner controls", async () => {
  const [movie] = check(await marquee.GET("/api/movies", { params: { query: { limit: 1 } } })).movies ?? [];
  assert.ok(movie);
  const similar = check(
    await marquee.GET("/api/movies/{id}/similar", { params: { path: { id: movie.id }, query: { n: 3, genre: ["Drama", "Comedy"] } } }),
  );
  assert.equal(similar.method, "factors");
  assert.equal(similar.items?.length, 3);
  const latest = check(await marquee.GET("/api/latest", { params: { query: { n: 2, exclude: [movie.id] } } }));
  assert.equal(latest.movies?.length, 2);
  const bad = await marquee.GET("/api/popular", { params: { query: { genre: ["Drama,"] } } });
  assert.equal(bad.error?.errors?.[0]?.location, "query.genre");

  const hidden = check(await marquee.PATCH("/api/movies/{id}", { params: { path: { id: movie.id } }, body: { hidden: true } }));
  assert.equal(hidden.hidden, true);
  const popular = check(await marquee.GET("/api/popular", { params: { query: { n: 100 } } }));
  assert.ok(!(popular.items ?? []).some((it) => it.movie_id === movie.id), "a hidden movie is served");
  check(await marquee.PATCH("/api/movies/{id}", { params: { path: { id: movie.id } }, body: { hidden: false } }));
  const deleted = await marquee.DELETE("/api/movies/{id}", { params: { path: { id: "ts-never-there" } } });
  assert.equal(deleted.response.status, 204);

  const event = await marquee.DELETE("/api/users/{id}/events/{event_id}", { params: { path: { id: "ts-gone", event_id: "ts-no-event" } } });
  assert.equal(event.response.status, 204);
  const erased = check(await marquee.DELETE("/api/users/{id}", { params: { path: { id: "ts-gone" } } }));
  assert.equal(erased.user_id, "ts-gone");
  assert.equal(erased.hot_events, 0);
});

test("errors are problem documents", async () => {
  // An event type the contract does not have: the types refuse it, so the
  // test goes around them to see what the server answers.
  const bad = { user_id: "ts-user", movie_id: "jaws-1975", type: "explode" } as unknown as { user_id: string; movie_id: string; type: "click" };
  const { data, error, response } = await marquee.POST("/api/events", { body: bad });
  assert.equal(data, undefined);
  assert.equal(response.status, 422);
  assert.match(response.headers.get("content-type") ?? "", /^application\/problem\+json/);
  assert.equal(error?.status, 422);
  assert.equal(error?.detail, "no event in the request is valid");
  assert.equal(error?.errors?.[0]?.location, "body.type");
  assert.match(error?.errors?.[0]?.message ?? "", /unknown event type "explode"/);

  const missing = await marquee.GET("/api/movies/{id}", { params: { path: { id: "no-such-movie" } } });
  assert.equal(missing.response.status, 404);
  assert.throws(() => check(missing), (e: unknown) => e instanceof MarqueeError && e.status === 404 && /no-such-movie/.test(e.message));

  const tooMany = await marquee.GET("/api/popular", { params: { query: { n: 500 } } });
  assert.equal(tooMany.error?.errors?.[0]?.location, "query.n");
});

test("apiKey is sent as a bearer token", async () => {
  const key = "k-0123456789abcdef0123456789abcdef";
  let sent: string | null = null;
  const client = createMarqueeClient("http://marquee.invalid/", {
    apiKey: key,
    fetch: async (req: Request) => {
      sent = req.headers.get("authorization");
      return new Response(JSON.stringify({ status: "ok" }), { status: 200, headers: { "content-type": "application/json" } });
    },
  });
  assert.equal(check(await client.GET("/healthz")).status, "ok");
  assert.equal(sent, `Bearer ${key}`);
});
