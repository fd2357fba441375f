package marquee_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/marquee-recsys/marquee/clients/go/marquee"
)

// A user opens the app: ask for their recommendations, and when they click
// one, send the click with the list's rec_log_id (so it counts toward that
// list's click-through rate). Their next list reflects the click.
func Example() {
	ctx := context.Background()
	c, err := marquee.NewClientWithResponses(baseURL)
	if err != nil {
		log.Fatal(err)
	}

	recs, err := marquee.Check(c.GetRecommendationsWithResponse(ctx,
		&marquee.GetRecommendationsParams{UserID: "example-user", N: new(int64(3))}))
	if err != nil {
		log.Fatal(err)
	}
	list := recs.JSON200
	fmt.Println("tier:", list.Tier, "movies:", len(list.Items))

	click, err := marquee.SingleEvent(marquee.EventIn{
		UserID: "example-user", MovieID: list.Items[0].MovieID, Type: marquee.EventInTypeClick,
		RecLogID: &list.RecLogID, EventID: new("example-click-1"), // retries with the same id are applied once
	})
	if err != nil {
		log.Fatal(err)
	}
	ack, err := marquee.Check(c.PostEventsWithResponse(ctx, click))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("accepted:", ack.JSON202.Accepted)
	// Output:
	// tier: popular movies: 3
	// accepted: 1
}

// Every error is an RFC 9457 problem document that names the bad field;
// Check turns it into a *ProblemError.
func ExampleCheck() {
	ctx := context.Background()
	c, err := marquee.NewClientWithResponses(baseURL)
	if err != nil {
		log.Fatal(err)
	}
	_, err = marquee.Check(c.GetPopularWithResponse(ctx, &marquee.GetPopularParams{N: new(int64(500))}))
	var problem *marquee.ProblemError
	if errors.As(err, &problem) {
		fmt.Println(problem.StatusCode, *problem.Problem.Detail)
		for _, d := range problem.Problem.Errors {
			fmt.Println(*d.Location, *d.Message)
		}
	}
	// Output:
	// 422 validation failed
	// query.n expected number <= 100
}

// A batch is validated event by event: valid events are accepted even when
// others are rejected, and the results say which.
func ExampleEventBatch() {
	ctx := context.Background()
	c, err := marquee.NewClientWithResponses(baseURL)
	if err != nil {
		log.Fatal(err)
	}
	batch, err := marquee.EventBatch(
		marquee.EventIn{UserID: "example-user-2", MovieID: "jaws-1975", Type: marquee.EventInTypeWatchComplete},
		marquee.EventIn{UserID: "example-user-2", MovieID: "no-such-movie", Type: marquee.EventInTypeLike},
	)
	if err != nil {
		log.Fatal(err)
	}
	ack, err := marquee.Check(c.PostEventsWithResponse(ctx, batch))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range ack.JSON202.Results {
		fmt.Print(r.Index, " ", r.Status)
		for _, e := range r.Errors {
			fmt.Print(": ", *e.Location, " ", *e.Message)
		}
		fmt.Println()
	}
	// Output:
	// 0 accepted
	// 1 rejected: body.events[1].movie_id is not in the catalog
}
