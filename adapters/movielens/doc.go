// Package movielens reads and writes interaction datasets in the MovieLens
// file layouts, so Marquee can import the public GroupLens datasets and
// export (or generate) its own in a format every recommender tool reads.
//
// # Layouts
//
// Open detects the layout from the files in a directory:
//
//   - ML-100K ([Layout100K]): u.data (tab-separated user, item, rating,
//     unix seconds) and u.item ('|'-separated id, title, release date,
//     video release date, IMDb URL and 19 genre flags in u.genre order).
//     u.item is Latin-1: titles are converted to UTF-8 (a title that is
//     already valid UTF-8 is kept as it is, so a re-encoded copy also reads).
//   - ml-latest, ml-latest-small, ml-20m, ml-25m, ml-32m ([LayoutLatest]):
//     ratings.csv (userId,movieId,rating,timestamp) and movies.csv
//     (movieId,title,genres), UTF-8 CSV with RFC 4180 quoting and a header.
//   - Marquee ([LayoutMarquee]): what [Write] produces. It is the ml-latest
//     layout plus events.csv, Marquee's own event log; events.csv is what
//     marks it.
//
// # Identifiers
//
// MovieLens ids are integers; Marquee ids are opaque strings that live in
// one namespace per server. A MovieLens dataset is imported under a
// namespace ns ([WithNamespace], default "ml"): user 196 becomes
// "ml_u196", movie 242 becomes "ml_m242", and the rating of 242 by 196 at
// unix time 881250949 gets the event id "ml-196-242-881250949". The
// namespace is letters and digits only, so an event id names exactly one
// (namespace, user, movie, second): re-importing a dataset yields the same
// ids, and the interaction log's event-id idempotency makes the second
// import a no-op, while two datasets imported under different namespaces
// never collide. A Marquee dataset carries Marquee ids and event ids
// verbatim; the namespace does not apply to it.
//
// # Validation
//
// Every record goes through domain.NewInteraction (or domain.Movie.Validate),
// the rules the HTTP edge applies: a rating between 0.5 and 5, timestamps
// from 1995-01-01 to a few minutes past the import clock ([WithNow]), ids in
// the id alphabet. The earliest rating of ml-25m (1995-01-09) passes; a
// record that does not is skipped and counted with its file and line in
// [Stats], which keeps the first [WithMaxErrors] errors. [WithStrict] makes
// the first bad record fail the read instead. Weights come from
// [WithWeights] (default domain.DefaultWeights()), as the server would
// apply them: with Weights.PositiveMinRating set, a rating below it is
// imported with weight 0 (seen, but no preference). IngestedAt is the event's own timestamp unless [WithIngestedAt]
// fixes an import time: imported history is old history, and a
// deterministic IngestedAt keeps re-imports byte-identical.
//
// Genres keep their MovieLens names, normalised across versions:
// "Children's" (ML-100K) becomes "Children", and "(no genres listed)" and
// ML-100K's "unknown" flag mean no genre. Titles lose their " (1995)" year
// suffix, which becomes Movie.Year (ML-100K falls back to the release date).
//
// # The Marquee layout
//
// Write produces movies.csv and ratings.csv in the ml-latest layout, so
// MovieLens tools can read the ratings, and events.csv, the complete event
// log in Marquee's own columns:
//
//	event_id,user_id,movie_id,type,value,timestamp,rec_log_id
//
// with every event type (ratings included), the value empty when absent,
// and the timestamp in RFC 3339 with nanoseconds, UTC. Ids are Marquee ids,
// not integers. When events.csv is present the reader takes interactions
// from it, not from ratings.csv, which is a lossy view (whole seconds, no
// event ids, ratings only). Weights are not stored: the importer weighs
// events with its own weights, as the server does. A movie is written as
// "Title (Year)" when it has a year, so a movie with no year whose title
// ends in a parenthesised year reads back with that year.
//
// Reading streams: interactions are parsed one line at a time, so a 25M-line
// file never sits in memory; only the movies (tens of thousands) are
// returned as a slice.
package movielens
