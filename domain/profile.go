package domain

import "time"

// Profile is what Marquee keeps of a user between activations: the
// real-time preference vector (the fold-in of their history against the
// item factors of ModelVersion) and how much history produced it.
type Profile struct {
	UserID           UserID    `json:"user_id"`
	Vector           []float32 `json:"vector,omitempty"`
	ModelVersion     string    `json:"model_version,omitempty"`
	InteractionCount int       `json:"interaction_count"`
	LastEventAt      time.Time `json:"last_event_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Preferences is a user's history reduced to what ranking needs: the summed
// weight per movie. Every movie in it counts as seen.
type Preferences struct {
	Weights     map[MovieID]float64
	Events      int
	LastEventAt time.Time
}

// NewPreferences returns empty preferences.
func NewPreferences() *Preferences {
	return &Preferences{Weights: map[MovieID]float64{}}
}

// Add folds one stored interaction into the preferences.
func (p *Preferences) Add(i Interaction) {
	p.Weights[i.MovieID] += i.Weight
	p.Events++
	if i.Time.After(p.LastEventAt) {
		p.LastEventAt = i.Time
	}
}

// MovieTotal is a user's archived interactions with one movie, summed:
// what the hot table no longer holds once events are archived.
type MovieTotal struct {
	MovieID MovieID   `json:"movie_id"`
	Weight  float64   `json:"weight"`
	Events  int       `json:"events"`
	Last    time.Time `json:"last"`
}

// AddTotal folds archived interactions into the preferences.
func (p *Preferences) AddTotal(t MovieTotal) {
	p.Weights[t.MovieID] += t.Weight
	p.Events += t.Events
	if t.Last.After(p.LastEventAt) {
		p.LastEventAt = t.Last
	}
}

// Seen returns the set of movies the user interacted with in any way.
func (p *Preferences) Seen() MovieSet {
	s := make(MovieSet, len(p.Weights))
	for m := range p.Weights {
		s[m] = struct{}{}
	}
	return s
}
