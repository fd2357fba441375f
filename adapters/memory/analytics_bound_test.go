package memory

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/marquee-recsys/marquee/domain"
	"github.com/marquee-recsys/marquee/ports"
)

// TestServedListsAreBounded: past maxServed lists the oldest are dropped,
// a list logged again keeps its place, and ids deleted meanwhile do not
// make the bound drop more than it must.
func TestServedListsAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := NewAnalytics()
	log := func(from, to int) {
		var lists []domain.Served
		for i := from; i < to; i++ {
			lists = append(lists, domain.Served{RecLogID: fmt.Sprint("r", i), UserID: domain.UserID(fmt.Sprint("u", i%2))})
		}
		if err := a.LogServed(ctx, lists...); err != nil {
			t.Fatal(err)
		}
	}
	log(0, 10)
	if err := a.ForgetUser(ctx, "u1", nil); err != nil { // r1, r3, … r9 go
		t.Fatal(err)
	}
	log(0, 1) // logged again: stays the oldest
	log(10, maxServed+10)
	if n, _ := a.Counts(); n != maxServed {
		t.Fatalf("%d lists kept, want %d", n, maxServed)
	}
	// 5 of the first 10 are left and 5 past the bound were logged after
	// them: those 5 went, the newest stayed.
	for _, id := range []string{"r0", "r8"} {
		if _, err := a.ServedList(ctx, id); !errors.Is(err, ports.ErrNotFound) {
			t.Fatalf("%s: %v, want dropped", id, err)
		}
	}
	for _, id := range []string{"r10", fmt.Sprint("r", maxServed+9)} {
		if _, err := a.ServedList(ctx, id); err != nil {
			t.Fatalf("%s: %v, want kept", id, err)
		}
	}
}
