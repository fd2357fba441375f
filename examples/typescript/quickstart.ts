// A Marquee integration to copy: ask for a user's recommendations, send a
// click on the first one with the list's rec_log_id, and ask again.
//
// The package is in clients/typescript (build it there with `npm ci && npm
// run build`); package.json here depends on it. Run the script with any
// TypeScript runner, for example:
//
//   MARQUEE_URL=http://127.0.0.1:8080 npx tsx quickstart.ts user_42
import { check, createMarqueeClient, MarqueeError } from "@marquee-recsys/client";

const marquee = createMarqueeClient(process.env.MARQUEE_URL ?? "http://127.0.0.1:8080");
const user = process.argv[2] ?? "user_42";

async function recommend(when: string) {
  // The answer says which tier served the list and carries its rec_log_id.
  const list = check(await marquee.GET("/api/recommendations", { params: { query: { user_id: user, n: 5 } } }));
  console.log(`${when} (tier ${list.tier}, rec_log_id ${list.rec_log_id}):`);
  for (const it of list.items ?? []) console.log(`  ${it.rank}. ${it.title ?? it.movie_id}`);
  return list;
}

try {
  const list = await recommend("before");
  const first = list.items?.[0];
  if (first) {
    // The rec_log_id ties the click to the list (click-through rate); the
    // event_id makes a retry safe (an event is applied once).
    check(
      await marquee.POST("/api/events", {
        body: {
          event_id: `click-${user}-${Date.now()}`,
          user_id: user,
          movie_id: first.movie_id,
          type: "click",
          rec_log_id: list.rec_log_id,
        },
      }),
    );
    console.log(`clicked ${first.movie_id}`);
    // Within milliseconds the next list reflects the click.
    await recommend("after");
  }
} catch (e) {
  // Errors are RFC 9457 problem documents naming the bad field.
  if (e instanceof MarqueeError) console.error(e.message, e.problem?.errors ?? []);
  else console.error(e);
  process.exitCode = 1;
}
