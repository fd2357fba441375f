package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/marquee-recsys/marquee/domain"
)

// userMessage is any message routed to one user's actor.
type userMessage interface {
	user() domain.UserID
}

// applyEvents asks a user actor to store and apply events (in order). The
// reply is an *applied.
type applyEvents struct {
	User   domain.UserID
	Events []domain.Interaction
}

func (m *applyEvents) user() domain.UserID { return m.User }

// applied answers applyEvents. Err is nil only when every event is durably
// stored, which is what lets the consumer commit.
type applied struct {
	Inserted int
	Err      error
}

// recommend asks a user actor for a list. The reply is a *recommended.
type recommend struct {
	User domain.UserID
	N    int
	// CacheFailed says the caller's own cache read just failed: the walk
	// skips the cache instead of waiting for it a second time.
	CacheFailed bool
	// Filter is the client's filter.
	Filter domain.Filter
	// Explain asks for the history movies behind each item.
	Explain bool
}

func (m *recommend) user() domain.UserID { return m.User }

// resetUser asks a user actor to drop what it holds of the user: with
// BuriedAt set the user was deleted then (forget them, and drop every
// event ingested before it from now on); without it, reload the user from
// the stores and store their recomputed profile (an event was deleted).
// The reply is a *userReset.
type resetUser struct {
	User     domain.UserID
	BuriedAt time.Time
}

func (m *resetUser) user() domain.UserID { return m.User }

// userReset answers resetUser.
type userReset struct{ Err error }

// recommended answers recommend.
type recommended struct {
	Served domain.Served
	Err    error
}

// sweep tells the users router to passivate idle user actors.
type sweep struct{}

// served is sent to the analytics actor for every list served.
type served struct{ domain.Served }

// feedbackEvent is sent to the analytics actor for every stored event
// that carries a rec_log_id.
type feedbackEvent struct{ domain.Interaction }

// topology asks the root actor for its children.
type topology struct{}

// topologyReply answers topology.
type topologyReply struct {
	users     *actor.PID
	analytics *actor.PID
}
