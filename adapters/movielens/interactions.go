package movielens

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/marquee-recsys/marquee/domain"
)

// Headers of the CSV files.
const (
	ratingsHeader = "userId,movieId,rating,timestamp"
	moviesHeader  = "movieId,title,genres"
	eventsHeader  = "event_id,user_id,movie_id,type,value,timestamp,rec_log_id"
)

// EachInteraction streams the interactions of the dataset to fn, in file
// order, stopping at and returning the first error fn returns. Invalid
// records are skipped and counted in Stats().Interactions (strict mode:
// the first fails the pass with its *LineError). Only the record being
// parsed is held in memory.
func (d *Dataset) EachInteraction(ctx context.Context, fn func(domain.Interaction) error) error {
	path := d.InteractionsFile()
	t := d.newTally(&d.stats.Interactions, path)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("movielens: interactions: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose on close
	b := newBuilder(d.namespace(), d.cfg)
	var rr *recordReader
	switch d.layout {
	case Layout100K:
		rr = newRecordReader(f, '\n', false) // whole lines: parseUDataLine splits them
	case LayoutLatest:
		rr = newRecordReader(f, ',', true)
		err = readHeader(rr, t.c.File, ratingsHeader)
	case LayoutMarquee:
		rr = newRecordReader(f, ',', true)
		err = readHeader(rr, t.c.File, eventsHeader)
	}
	if err != nil {
		return err
	}
	for {
		fields, err := t.next(ctx, rr)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var ev domain.Interaction
		switch d.layout {
		case Layout100K:
			ev, err = b.rating(parseUDataLine(fields[0]))
		case LayoutLatest:
			ev, err = b.rating(parseRatingFields(fields))
		default:
			ev, err = b.event(fields)
		}
		if err != nil {
			if err := t.skip(rr.Line(), err); err != nil {
				return err
			}
			continue
		}
		t.c.Accepted++
		if err := fn(ev); err != nil {
			return err
		}
	}
}

// rawRating is a MovieLens rating before it is mapped and validated.
type rawRating struct {
	user, movie []byte // canonical MovieLens ids
	value       float64
	ts          int64 // unix seconds
}

// parseUDataLine parses a u.data line: user, item, rating and unix time
// separated by tabs.
func parseUDataLine(line []byte) (rawRating, error) {
	var f [4][]byte
	n := 0
	for rest := line; n < len(f); n++ {
		i := bytes.IndexByte(rest, '\t')
		if i < 0 {
			f[n] = rest
			n++
			break
		}
		if n == len(f)-1 {
			return rawRating{}, fmt.Errorf("%w: more than 4 tab-separated fields", ErrMalformed)
		}
		f[n], rest = rest[:i], rest[i+1:]
	}
	if n != len(f) {
		return rawRating{}, fmt.Errorf("%w: %d tab-separated fields, want 4 (user, item, rating, timestamp)", ErrMalformed, n)
	}
	return parseRatingFields(f[:])
}

// parseRatingFields parses user, movie, rating and unix seconds.
func parseRatingFields(f [][]byte) (rawRating, error) {
	if len(f) != 4 {
		return rawRating{}, fmt.Errorf("%w: %d fields, want 4 (userId,movieId,rating,timestamp)", ErrMalformed, len(f))
	}
	var r rawRating
	var ok bool
	if r.user, ok = canonicalID(f[0]); !ok {
		return rawRating{}, fmt.Errorf("%w: user id %q is not a number", ErrMalformed, f[0])
	}
	if r.movie, ok = canonicalID(f[1]); !ok {
		return rawRating{}, fmt.Errorf("%w: movie id %q is not a number", ErrMalformed, f[1])
	}
	var err error
	if r.value, err = strconv.ParseFloat(string(f[2]), 64); err != nil {
		return rawRating{}, fmt.Errorf("%w: rating %q is not a number", ErrMalformed, f[2])
	}
	if r.ts, err = strconv.ParseInt(string(f[3]), 10, 64); err != nil {
		return rawRating{}, fmt.Errorf("%w: timestamp %q is not unix seconds", ErrMalformed, f[3])
	}
	return r, nil
}

// maxInterned bounds the id caches of one pass; ids beyond it are still
// mapped, only no longer shared.
const maxInterned = 1 << 21

// valueSlab is how many rating values share one allocation.
const valueSlab = 512

// builder turns parsed records into validated interactions, allocating as
// little per record as the domain types allow. It interns user and movie
// ids (a 25M-rating file names only ~200K distinct ones, and MovieLens
// files are sorted by user, so the last user is checked first), hands out
// value pointers from slabs, and reuses one timestamp, which
// domain.NewInteraction copies.
type builder struct {
	ns         string
	weights    domain.Weights
	now        time.Time
	ingestedAt time.Time
	users      map[string]string
	movies     map[string]string
	denseMovie []string // mapped MovieLens movie ids by number, for the common small ones
	lastRaw    []byte
	lastUser   string
	eid        []byte
	values     []float64
	ts         *time.Time
}

func newBuilder(ns string, cfg config) *builder {
	return &builder{
		ns: ns, weights: cfg.weights, now: cfg.now(), ingestedAt: cfg.ingestedAt,
		users: map[string]string{}, movies: map[string]string{}, ts: new(time.Time),
	}
}

// user maps a raw user id.
func (b *builder) user(raw []byte) string {
	if b.lastUser != "" && string(raw) == string(b.lastRaw) {
		return b.lastUser
	}
	b.lastUser = b.id(b.users, "_u", raw)
	b.lastRaw = append(b.lastRaw[:0], raw...)
	return b.lastUser
}

// id maps a raw id through the cache m ("_u" or "_m" names the kind).
func (b *builder) id(m map[string]string, kind string, raw []byte) string {
	if s, ok := m[string(raw)]; ok {
		return s
	}
	s := string(raw)
	if b.ns != "" {
		s = b.ns + kind + s
	}
	if len(m) < maxInterned {
		m[string(raw)] = s
	}
	return s
}

// maxDense bounds the dense movie table (16 MiB of string headers):
// MovieLens movie ids stay below 300K; larger ones go through the map.
const maxDense = 1 << 20

// movie maps a raw MovieLens movie id. Ratings name movies in random
// order, so this lookup is the reader's hottest: a slice indexed by the
// id avoids hashing and comparing keys.
func (b *builder) movie(raw []byte) string {
	if b.ns == "" || len(raw) > 7 {
		return b.id(b.movies, "_m", raw)
	}
	n := 0
	for _, c := range raw {
		n = n*10 + int(c-'0')
	}
	if n >= maxDense {
		return b.id(b.movies, "_m", raw)
	}
	if n >= len(b.denseMovie) {
		b.denseMovie = append(b.denseMovie, make([]string, n+1-len(b.denseMovie)+n/4)...)
	}
	if s := b.denseMovie[n]; s != "" {
		return s
	}
	s := b.ns + "_m" + string(raw)
	b.denseMovie[n] = s
	return s
}

// value returns a pointer to a fresh copy of v. Values are carved from
// slabs: each interaction still owns its value, but a slab is one
// allocation for hundreds of them.
func (b *builder) value(v float64) *float64 {
	if len(b.values) == 0 {
		b.values = make([]float64, valueSlab)
	}
	p := &b.values[0]
	b.values = b.values[1:]
	*p = v
	return p
}

// rating maps and validates a MovieLens rating.
func (b *builder) rating(r rawRating, err error) (domain.Interaction, error) {
	if err != nil {
		return domain.Interaction{}, err
	}
	b.eid = append(append(b.eid[:0], b.ns...), '-')
	b.eid = append(append(b.eid, r.user...), '-')
	b.eid = append(append(b.eid, r.movie...), '-')
	b.eid = strconv.AppendInt(b.eid, r.ts, 10)
	*b.ts = time.Unix(r.ts, 0)
	return b.finish(domain.NewInteraction(domain.EventInput{
		EventID:   string(b.eid),
		UserID:    b.user(r.user),
		MovieID:   b.movie(r.movie),
		Type:      string(domain.EventRating),
		Value:     b.value(r.value),
		Timestamp: b.ts,
	}, b.weights, b.now))
}

// event parses and validates a record of events.csv.
func (b *builder) event(f [][]byte) (domain.Interaction, error) {
	if len(f) != 7 {
		return domain.Interaction{}, fmt.Errorf("%w: %d fields, want 7 (%s)", ErrMalformed, len(f), eventsHeader)
	}
	var value *float64
	if len(f[4]) > 0 {
		v, err := strconv.ParseFloat(string(f[4]), 64)
		if err != nil {
			return domain.Interaction{}, fmt.Errorf("%w: value %q is not a number", ErrMalformed, f[4])
		}
		value = b.value(v)
	}
	var err error
	if *b.ts, err = parseTime(f[5]); err != nil {
		return domain.Interaction{}, fmt.Errorf("%w: timestamp %q is not RFC 3339", ErrMalformed, f[5])
	}
	return b.finish(domain.NewInteraction(domain.EventInput{
		EventID:   string(f[0]),
		UserID:    b.user(f[1]),
		MovieID:   b.id(b.movies, "", f[2]),
		Type:      eventType(f[3]),
		Value:     value,
		Timestamp: b.ts,
		RecLogID:  string(f[6]),
	}, b.weights, b.now))
}

// finish applies the IngestedAt policy.
func (b *builder) finish(ev domain.Interaction, err error) (domain.Interaction, error) {
	if err != nil {
		return domain.Interaction{}, err
	}
	ev.IngestedAt = ev.Time
	if !b.ingestedAt.IsZero() {
		ev.IngestedAt = b.ingestedAt
	}
	return ev, nil
}

// eventType returns the event type named by b without allocating for the
// known ones.
func eventType(b []byte) string {
	for _, t := range domain.EventTypes {
		if string(t) == string(b) {
			return string(t)
		}
	}
	return string(b)
}

// parseTime parses an RFC 3339 timestamp.
func parseTime(b []byte) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, string(b))
}
