package openapi

import "strconv"

var _ selfEncoding = Recommendations{}

// appendJSON implements selfEncoding: the fields in the order of the
// struct, $schema first when there is one, omitempty as tagged.
func (r Recommendations) appendJSON(b []byte, schema string) ([]byte, error) {
	var err error
	b = append(b, '{')
	first := true
	if schema != "" {
		b = appendJSONString(appendJSONField(b, "$schema", true), schema)
		first = false
	}
	b = appendJSONString(appendJSONField(b, "user_id", first), r.UserID)
	if b, err = appendRecItems(appendJSONField(b, "items", false), r.Items); err != nil {
		return b, err
	}
	b = appendJSONString(appendJSONField(b, "tier", false), r.Tier)
	b = appendJSONString(appendJSONField(b, "source_tier", false), r.SourceTier)
	if r.ModelVersion != "" {
		b = appendJSONString(appendJSONField(b, "model_version", false), r.ModelVersion)
	}
	b = appendJSONString(appendJSONField(b, "rec_log_id", false), r.RecLogID)
	if b, err = appendJSONTime(appendJSONField(b, "generated_at", false), r.GeneratedAt); err != nil {
		return b, err
	}
	if b, err = appendJSONTime(appendJSONField(b, "served_at", false), r.ServedAt); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendRecItems appends items (null when nil, as encoding/json).
func appendRecItems(b []byte, items []RecItem) ([]byte, error) {
	if items == nil {
		return append(b, "null"...), nil
	}
	var err error
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(appendJSONField(append(b, '{'), "rank", true), int64(it.Rank), 10)
		b = appendJSONString(appendJSONField(b, "movie_id", false), it.MovieID)
		if it.Title != "" {
			b = appendJSONString(appendJSONField(b, "title", false), it.Title)
		}
		if b, err = appendJSONFloat(appendJSONField(b, "score", false), it.Score); err != nil {
			return b, err
		}
		if len(it.Because) > 0 {
			if b, err = appendReasons(appendJSONField(b, "because", false), it.Because); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

func appendReasons(b []byte, reasons []Reason) ([]byte, error) {
	var err error
	b = append(b, '[')
	for i, r := range reasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(appendJSONField(append(b, '{'), "movie_id", true), r.MovieID)
		if r.Title != "" {
			b = appendJSONString(appendJSONField(b, "title", false), r.Title)
		}
		if b, err = appendJSONFloat(appendJSONField(b, "share", false), r.Share); err != nil {
			return b, err
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}
