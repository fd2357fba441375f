//go:build race

package eval_test

// raceEnabled: the race detector slows the dense loops some 30-fold, so
// the MovieLens test trains a smaller model under it.
const raceEnabled = true
