package openapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// The statuses of EventResult.
const (
	statusAccepted  = "accepted"
	statusRejected  = "rejected"
	statusDuplicate = "duplicate"
)

// eventLookupTimeout bounds the check of client-supplied event ids
// against the stored events. Past it the events are accepted unchecked,
// as when the database is down: Kafka holds them, and the store keeps the
// first event stored under an id.
const eventLookupTimeout = time.Second

// checkDuplicates refuses events that reuse an event_id for a different
// event: one already stored under that id, or an earlier event of the same
// request. Only ids the client supplied are checked (the server's UUIDv7
// ids cannot collide). A refused event gets status duplicate; an identical
// resend stays accepted, and resent[j] says events[j] need not be published
// again. When the interaction log is unreachable the stored events are not
// consulted (and that is counted), so a conflict with one of them goes
// unnoticed and the store keeps the first event stored under the id.
func checkDuplicates(ctx context.Context, d Deps, inputs []EventIn, events []domain.Interaction, index []int,
	results []EventResult, prefix func(int) string) (resent []bool, err error) {
	resent = make([]bool, len(events))
	stated := func(j int) bool { return results[index[j]].Status == "" && inputs[index[j]].EventID != "" }
	var ids []string
	asked := map[string]bool{}
	for j, ev := range events {
		if stated(j) && !asked[ev.EventID] {
			asked[ev.EventID] = true
			ids = append(ids, ev.EventID)
		}
	}
	if len(ids) == 0 {
		return resent, nil
	}
	first := map[string]domain.Interaction{} // by id: the stored event, else the request's first
	if lookup, ok := d.History.(ports.EventLookup); ok {
		lctx, cancel := context.WithTimeout(ctx, eventLookupTimeout)
		stored, err := lookup.Lookup(lctx, ids)
		cancel()
		switch {
		case err == nil:
			first = stored
		case errors.Is(err, ports.ErrUnavailable), errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			d.Metrics.EventIDCheckSkipped.Add(float64(len(ids)))
		default:
			return nil, d.serverError(ctx, "event store unavailable; nothing was accepted", err)
		}
	}
	for j, ev := range events {
		if !stated(j) {
			continue
		}
		i := index[j]
		earlier, ok := first[ev.EventID]
		if !ok {
			first[ev.EventID] = ev
			continue
		}
		diff := differences(earlier, ev, inputs[i].Timestamp != "")
		if len(diff) == 0 {
			resent[j] = true
			continue
		}
		results[i].Status = statusDuplicate
		results[i].Errors = append(results[i].Errors, &huma.ErrorDetail{
			Location: prefix(i) + ".event_id", Value: ev.EventID,
			Message: fmt.Sprintf("was already used for a different event (it differs in %s); send a new event_id for a new event",
				strings.Join(diff, ", ")),
		})
	}
	return resent, nil
}

// differences lists the fields the client stated in ev that differ from
// the earlier event under the same id: the timestamp only when the client
// sent one (otherwise ev's is the time of arrival), compared to the
// microsecond that the stores keep.
func differences(earlier, ev domain.Interaction, statedTime bool) []string {
	var out []string
	if earlier.UserID != ev.UserID {
		out = append(out, "user_id")
	}
	if earlier.MovieID != ev.MovieID {
		out = append(out, "movie_id")
	}
	if earlier.Type != ev.Type {
		out = append(out, "type")
	}
	if (earlier.Value == nil) != (ev.Value == nil) || earlier.Value != nil && *earlier.Value != *ev.Value {
		out = append(out, "value")
	}
	if earlier.RecLogID != ev.RecLogID {
		out = append(out, "rec_log_id")
	}
	if statedTime && (earlier.Time.Sub(ev.Time) >= time.Microsecond || ev.Time.Sub(earlier.Time) >= time.Microsecond) {
		out = append(out, "timestamp")
	}
	return out
}

// rejectAll is the answer when no event of the request was accepted: 409
// when every one reused an event_id for a different event (the request is
// well-formed, it conflicts with what is stored), 422 otherwise, listing
// every problem.
func rejectAll(d Deps, results []EventResult, batch bool) error {
	var details []error
	conflicts := 0
	for i := range results {
		if results[i].Status == statusDuplicate {
			conflicts++
		} else {
			results[i].Status = statusRejected
		}
		for _, e := range results[i].Errors {
			details = append(details, e)
		}
	}
	d.Metrics.EventsRejected.WithLabelValues("invalid").Add(float64(len(results) - conflicts))
	d.Metrics.EventsRejected.WithLabelValues("duplicate").Add(float64(conflicts))
	switch {
	case conflicts < len(results):
		return huma.Error422UnprocessableEntity("no event in the request is valid", details...)
	case batch:
		return huma.Error409Conflict("every event reuses an event_id already used for a different event; nothing was accepted", details...)
	default:
		return huma.Error409Conflict(fmt.Sprintf("event_id %q was already used for a different event; nothing was accepted", results[0].EventID), details...)
	}
}
