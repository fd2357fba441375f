package domain

import "time"

// Feedback is an interaction attributed to the list it came from: the
// click-through half of CTR.
type Feedback struct {
	RecLogID string    `json:"rec_log_id"`
	EventID  string    `json:"event_id"`
	UserID   UserID    `json:"user_id"`
	MovieID  MovieID   `json:"movie_id"`
	Type     EventType `json:"type"`
	Time     time.Time `json:"ts"`
	Tier     Tier      `json:"tier,omitempty"`
	// Position is the 1-based rank of the movie in the served list, or 0
	// when the movie was not in it (the user went elsewhere from the list).
	Position int `json:"position"`
}

// DefaultAttributionWindow is how long after serving an event still counts
// as a response to the list.
const DefaultAttributionWindow = 24 * time.Hour

// Attribute links ev to the list it names. It returns false when the event
// cannot be credited to that list: another user's list, or an event before
// the list was served or after the window closed.
func Attribute(s Served, ev Interaction, window time.Duration) (Feedback, bool) {
	if s.UserID != ev.UserID || ev.Time.Before(s.ServedAt.Add(-MaxFutureSkew)) || ev.Time.After(s.ServedAt.Add(window)) {
		return Feedback{}, false
	}
	fb := Feedback{
		RecLogID: s.RecLogID, EventID: ev.EventID, UserID: ev.UserID, MovieID: ev.MovieID,
		Type: ev.Type, Time: ev.Time, Tier: s.ServedBy,
	}
	for i, it := range s.List.Items {
		if it.MovieID == ev.MovieID {
			fb.Position = i + 1
			break
		}
	}
	return fb, true
}
