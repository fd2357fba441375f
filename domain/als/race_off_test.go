//go:build !race

package als

const raceEnabled = false
