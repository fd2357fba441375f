// Package actors is Marquee's actor system, built on Proto.Actor.
//
// The tree, with who supervises whom:
//
//	root "marquee"            OneForOne, restart ≤10 times a minute, then stop
//	├── "analytics"           writes served lists and attributed feedback
//	├── "users"               routes by user id; spawns, passivates and
//	│   └── user actors       restarts user actors (OneForOne, ≤3 in 10s)
//	├── "ingest"              owns the event consumer; fans batches out to
//	│                         user actors and lets offsets commit only after
//	│                         every event of the batch is stored
//	├── "trainer"             one training job at a time; each iteration is a
//	│   └── shards (N)        scatter/gather over shard actors, each owning a
//	│                         contiguous block of rows; a crashed shard is
//	│                         restarted and handed its block again
//	└── "scheduler"           sends the trainer a request on the cron schedule
//
// A user actor holds one user's state (history reduced to preferences, the
// seen set, the preference vector) and is the only writer of that user's
// data, so events and recommendation requests for a user are serialized
// and a request sent after an event was applied always sees it. All state
// lives in the ports; an actor that is passivated, restarted or moved
// reloads it on start.
//
// Clustered (Config.Cluster), user actors are grains of kind "user" placed
// by Proto.Actor's disthash identity lookup, and the trainer (with the
// scheduler) and the archiver are cluster singletons: grains with a fixed
// identity that run those actors under the same local names on whichever
// member owns them. Messages to grains are protobuf (package clusterpb).
// docs/ARCHITECTURE.md, The cluster, says how and why.
package actors
