package parquet

import (
	"fmt"

	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/marquee-recsys/marquee/ports"
)

// SchemaVersion is written in every file's key-value metadata under
// "marquee.schema". Readers accept any file with the columns below (extra
// columns are ignored), so the version only changes when a column changes
// meaning.
const SchemaVersion = "1"

// column describes one column of the archive schema.
type column struct {
	name     string
	field    ports.Field
	physical pq.Type
	optional bool
	logical  schema.LogicalType
}

// The columns, in file order. Changing a name, type or meaning breaks
// every reader of existing archives (DuckDB queries included): add
// columns instead, and bump SchemaVersion only for a change of meaning.
const (
	colEventID = iota
	colUserID
	colMovieID
	colType
	colValue
	colWeight
	colTime
	colRecLogID
	colIngestedAt
	numColumns
)

var columns = [numColumns]column{
	colEventID:    {"event_id", ports.FieldEventID, pq.Types.ByteArray, false, schema.StringLogicalType{}},
	colUserID:     {"user_id", ports.FieldUserID, pq.Types.ByteArray, false, schema.StringLogicalType{}},
	colMovieID:    {"movie_id", ports.FieldMovieID, pq.Types.ByteArray, false, schema.StringLogicalType{}},
	colType:       {"event_type", ports.FieldType, pq.Types.ByteArray, false, schema.StringLogicalType{}},
	colValue:      {"value", ports.FieldValue, pq.Types.Double, true, schema.NoLogicalType{}},
	colWeight:     {"weight", ports.FieldWeight, pq.Types.Double, false, schema.NoLogicalType{}},
	colTime:       {"ts", ports.FieldTime, pq.Types.Int64, false, schema.NewTimestampLogicalType(true, schema.TimeUnitMicros)},
	colRecLogID:   {"rec_log_id", ports.FieldRecLogID, pq.Types.ByteArray, true, schema.StringLogicalType{}},
	colIngestedAt: {"ingested_at", ports.FieldIngestedAt, pq.Types.Int64, false, schema.NewTimestampLogicalType(true, schema.TimeUnitMicros)},
}

// fileSchema is the archive's Parquet schema.
func fileSchema() (*schema.GroupNode, error) {
	fields := make(schema.FieldList, 0, numColumns)
	for _, c := range columns {
		rep := pq.Repetitions.Required
		if c.optional {
			rep = pq.Repetitions.Optional
		}
		n, err := schema.NewPrimitiveNodeLogical(c.name, rep, c.logical, c.physical, -1, -1)
		if err != nil {
			return nil, fmt.Errorf("parquet: column %s: %w", c.name, err)
		}
		fields = append(fields, n)
	}
	return schema.NewGroupNode("interaction", pq.Repetitions.Required, fields, -1)
}

// check reports whether a file's column matches c.
func (c column) check(got *schema.Column) error {
	wantDef := int16(0)
	if c.optional {
		wantDef = 1
	}
	switch {
	case got.PhysicalType() != c.physical:
		return fmt.Errorf("column %s is %s, want %s", c.name, got.PhysicalType(), c.physical)
	case got.MaxRepetitionLevel() != 0:
		return fmt.Errorf("column %s is repeated", c.name)
	case got.MaxDefinitionLevel() != wantDef:
		return fmt.Errorf("column %s has definition level %d, want %d (optional: %t)", c.name, got.MaxDefinitionLevel(), wantDef, c.optional)
	}
	if _, ok := c.logical.(schema.TimestampLogicalType); ok {
		ts, ok := got.LogicalType().(schema.TimestampLogicalType)
		if !ok || ts.TimeUnit() != schema.TimeUnitMicros || !ts.IsAdjustedToUTC() {
			return fmt.Errorf("column %s is %s, want timestamp[us, UTC]", c.name, got.LogicalType())
		}
	}
	return nil
}
