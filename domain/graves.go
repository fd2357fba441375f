package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// UserDigest is how a tombstone names a deleted user: the first 16 bytes
// of the SHA-256 of the id, in hex. The tombstone outlives everything else
// of the user (it keeps their late events out), and a digest cannot be
// listed back to the ids it was made from; it can only confirm that an id
// someone already knows was deleted.
func UserDigest(u UserID) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:16])
}

// Graves are the tombstones: UserDigest of each deleted user → the
// instant of the deletion.
type Graves map[string]time.Time

// Of returns when u was deleted, if they were.
func (g Graves) Of(u UserID) (time.Time, bool) {
	if len(g) == 0 {
		return time.Time{}, false
	}
	at, ok := g[UserDigest(u)]
	return at, ok
}
