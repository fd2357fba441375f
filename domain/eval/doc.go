// Package eval is Marquee's offline evaluation protocol: how a holdout is
// carved out of the interaction matrix, how a model ranks for the users it
// is tested on, and which top-k metrics are reported. Training uses it to
// decide whether a new model may replace the serving one (it must beat the
// popularity baseline on the holdout) and which parameters it is fitted
// with (domain/tune scores the search's trials on a validation split
// carved by the same protocol, then the tuned against the incumbent
// parameters on the holdout itself), and the MovieLens-100K test reports
// it.
//
// # Holdout fit and full fit
//
// A training run evaluates the model it does not serve: the holdout fit,
// the chosen parameters fitted on the matrix without the holdout. The
// published model is the full fit, the same parameters and seed fitted on
// all data, holdout included; it carries the holdout fit's metrics, since
// its own on the holdout would measure memory, not prediction.
//
// # Holdout (Split)
//
// The unit is the user × movie entry of the training matrix (the sum of all
// the user's events on the movie, as Train sees it). An entry is positive
// when its summed weight is > 0; only positive entries are ever held out,
// because a dislike or a cancelled like is not something a recommender
// should be rewarded for putting in a list.
//
//  1. A user is eligible when they have at least SplitConfig.MinPositives
//     positive entries (default 5, and never fewer than 2): with fewer,
//     holding any out leaves too little history to rank from, and their
//     score is mostly noise.
//  2. If SplitConfig.MaxUsers > 0 and more users are eligible, MaxUsers of
//     them are drawn uniformly with SplitConfig.Seed; the rest keep their
//     whole history in the training matrix and are not evaluated.
//  3. From each evaluated user with n positive entries, h = round(Fraction·n)
//     entries are held out (default Fraction 0.2), clamped to [1, n−1] so
//     that the user keeps at least one positive entry to be ranked from.
//     With entry times (the time of the latest event on the entry), the h
//     most recent positive entries are held out — the model must predict a
//     user's next movies from their past, as in production; equal times are
//     ordered by a seeded hash. Without times the h entries are drawn at
//     random with SplitConfig.Seed.
//  4. Held-out entries are removed from the training matrix entirely (all
//     of the user's events on that movie); every other entry, including the
//     user's dislikes, stays.
//
// The split is per user rather than one global time cut: a global cut
// evaluates only users active after it and mostly tests cold start, which
// the fold-in handles, not the trained model. The price is that other
// users' later interactions can inform the item factors used to rank a
// user's held-out movies; the popularity baseline enjoys the same leak,
// so the comparison between the two stays fair.
//
// The split is a pure function of the matrix, the times and SplitConfig.
//
// # Ranking (Evaluate)
//
// For every user with held-out items, the Ranker ranks the full catalogue
// (every column of the training matrix) and the k best items are kept,
// leaving out every item of the user's training row — whatever its weight,
// an item the user has interacted with is never recommended to them, as in
// serving. Held-out items are not in the training row, so they compete with
// every movie the user has not seen.
//
// # Metrics
//
// With R the user's held-out items, L the top-k list, and rel_j = 1 when
// the j-th item of L is in R, each metric is computed per user and averaged
// over all evaluated users (each user weighs the same):
//
//   - precision@k = |L ∩ R| / k (k even when fewer items were left to rank).
//   - recall@k = |L ∩ R| / |R|, the standard definition: a user with more
//     than k held-out items cannot reach 1.
//   - ndcg@k = DCG / IDCG with binary relevance: DCG = Σ_j rel_j / log₂(j+1)
//     over positions j = 1…k, IDCG the same for an ideal list, which puts
//     min(k, |R|) relevant items first.
//   - map@k: the mean of AP@k = (1 / min(k, |R|)) · Σ_j rel_j · precision@j.
//   - hit_rate@k: the share of users with at least one hit.
//   - ndcg_stderr@k: the standard error of the mean NDCG@k (sample
//     standard deviation over users / √users), to tell a real difference
//     between two models on the same holdout from noise.
//   - coverage@k (not per user): the number of distinct items in all the
//     evaluated users' lists divided by the catalogue size (columns of the
//     training matrix).
//
// The popularity baseline (Popularity) ranks every user's unseen items by
// the number of users with a positive training entry on them; a model
// earns its place by beating it on the same holdout.
package eval
