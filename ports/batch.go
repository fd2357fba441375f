package ports

import (
	"context"

	"github.com/marquee-recsys/marquee/domain"
)

// BatchList is the precomputed list of one user from one training run.
type BatchList struct {
	UserID domain.UserID
	List   domain.RecList
}

// BatchStore holds the top-N lists training precomputes for every user
// with history.
type BatchStore interface {
	// Get returns the user's latest list or ErrNotFound.
	Get(ctx context.Context, user domain.UserID) (domain.RecList, error)
	// PutAll replaces the lists of every user in lists with the new ones
	// of model version; users absent from lists keep their old list.
	PutAll(ctx context.Context, version string, lists []BatchList) error
	// Delete deletes the user's list; a user without one is not an error.
	Delete(ctx context.Context, user domain.UserID) error
}
