// Command quickstart is a Marquee integration to copy: it asks for a user's
// recommendations, sends a click on the first one with the list's
// rec_log_id, and asks again.
//
//	go run ./examples/go/quickstart -url http://127.0.0.1:8080 -user user_42
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/marquee-recsys/marquee/clients/go/marquee"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "Marquee's address")
	user := flag.String("user", "user_42", "the user to recommend for")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, *url, *user, log.New(os.Stdout, "", 0)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, user string, out *log.Logger) error {
	c, err := marquee.NewClientWithResponses(url)
	if err != nil {
		return err
	}

	// 1. Recommendations: the answer says which tier served them and
	// carries the rec_log_id of this list.
	recs, err := marquee.Check(c.GetRecommendationsWithResponse(ctx,
		&marquee.GetRecommendationsParams{UserID: user, N: new(int64(5))}))
	if err != nil {
		return err
	}
	list := recs.JSON200
	printList(out, "before", list)
	if len(list.Items) == 0 {
		return nil
	}

	// 2. The user clicks the first movie. The rec_log_id ties the click to
	// the list (click-through rate); the event_id makes a retry safe.
	click, err := marquee.SingleEvent(marquee.EventIn{
		EventID:  new(fmt.Sprintf("click-%s-%d", user, time.Now().UnixNano())),
		UserID:   user,
		MovieID:  list.Items[0].MovieID,
		Type:     marquee.EventInTypeClick,
		RecLogID: &list.RecLogID,
	})
	if err != nil {
		return err
	}
	if _, err := marquee.Check(c.PostEventsWithResponse(ctx, click)); err != nil {
		return err // a *marquee.ProblemError names the bad field
	}
	out.Printf("clicked %s", list.Items[0].MovieID)

	// 3. Within milliseconds the next list reflects the click (and never
	// contains the clicked movie).
	recs, err = marquee.Check(c.GetRecommendationsWithResponse(ctx,
		&marquee.GetRecommendationsParams{UserID: user, N: new(int64(5))}))
	if err != nil {
		return err
	}
	printList(out, "after", recs.JSON200)
	return nil
}

func printList(out *log.Logger, when string, l *marquee.Recommendations) {
	out.Printf("%s (tier %s, rec_log_id %s):", when, l.Tier, l.RecLogID)
	for _, it := range l.Items {
		title := it.MovieID
		if it.Title != nil {
			title = *it.Title
		}
		out.Printf("  %d. %s", it.Rank, title)
	}
}
