package marquee

// SingleEvent is the body of PostEvents that carries one event.
func SingleEvent(e EventIn) (PostEventsJSONRequestBody, error) {
	var body PostEventsJSONRequestBody
	err := body.FromEventIn(e)
	return body, err
}

// EventBatch is the body of PostEvents that carries up to 1,000 events.
// Each is validated on its own: the answer's Results say which were
// accepted.
func EventBatch(events ...EventIn) (PostEventsJSONRequestBody, error) {
	var body PostEventsJSONRequestBody
	err := body.FromEventBatchIn(EventBatchIn{Events: events})
	return body, err
}
