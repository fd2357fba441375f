package parquet

import (
	"fmt"
	"io"
	"time"

	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/marquee-recsys/marquee/domain"
)

// writeBatch is how many values go to a column writer per call.
const writeBatch = 8192

// writerProps returns the writer settings: the codec everywhere;
// dictionaries for the repetitive columns (users, movies, types, values,
// weights); plain for the unique event ids; delta encoding for the
// timestamps, which grow within a file (rows are in time order).
func writerProps(codec compress.Compression) *pq.WriterProperties {
	return pq.NewWriterProperties(
		pq.WithCompression(codec),
		pq.WithCreatedBy("marquee (apache arrow-go parquet)"),
		pq.WithStats(true),
		pq.WithDictionaryFor("event_id", false),
		pq.WithDictionaryFor("ts", false),
		pq.WithEncodingFor("ts", pq.Encodings.DeltaBinaryPacked),
		pq.WithDictionaryFor("ingested_at", false),
		pq.WithEncodingFor("ingested_at", pq.Encodings.DeltaBinaryPacked),
	)
}

// encode writes rows to w as one Parquet file of row groups of at most
// rowGroup rows, in the order given.
func encode(w io.Writer, day time.Time, rows []domain.Interaction, rowGroup int, codec compress.Compression) error {
	sc, err := fileSchema()
	if err != nil {
		return err
	}
	kv := metadata.NewKeyValueMetadata()
	if err := kv.Append("marquee.schema", SchemaVersion); err != nil {
		return err
	}
	if err := kv.Append("marquee.day", day.UTC().Format(time.DateOnly)); err != nil {
		return err
	}
	fw, err := file.NewParquetWriterWithError(w, sc, file.WithWriterProps(writerProps(codec)), file.WithWriteMetadata(kv))
	if err != nil {
		return fmt.Errorf("parquet: start file: %w", err)
	}
	for start := 0; start < len(rows); start += rowGroup {
		if err := writeRowGroup(fw, rows[start:min(start+rowGroup, len(rows))]); err != nil {
			_ = fw.Close()
			return err
		}
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("parquet: finish file: %w", err)
	}
	return nil
}

func writeRowGroup(fw *file.Writer, rows []domain.Interaction) error {
	rg, err := fw.AppendRowGroupChecked()
	if err != nil {
		return fmt.Errorf("parquet: row group: %w", err)
	}
	var cw columnWriter
	for c := range numColumns {
		w, err := rg.NextColumn()
		if err != nil {
			return fmt.Errorf("parquet: column %s: %w", columns[c].name, err)
		}
		for start := 0; start < len(rows); start += writeBatch {
			if err := cw.write(w, c, rows[start:min(start+writeBatch, len(rows))]); err != nil {
				return fmt.Errorf("parquet: column %s: %w", columns[c].name, err)
			}
		}
	}
	if err := rg.Close(); err != nil {
		return fmt.Errorf("parquet: close row group: %w", err)
	}
	return nil
}

// columnWriter holds the scratch slices of one file's writing.
type columnWriter struct {
	bytes  []pq.ByteArray
	floats []float64
	ints   []int64
	defs   []int16
}

// write writes one batch of rows' values of column c.
func (cw *columnWriter) write(w file.ColumnChunkWriter, c int, rows []domain.Interaction) error {
	cw.bytes, cw.floats, cw.ints, cw.defs = cw.bytes[:0], cw.floats[:0], cw.ints[:0], cw.defs[:0]
	var err error
	switch c {
	case colEventID, colUserID, colMovieID, colType:
		for _, r := range rows {
			cw.bytes = append(cw.bytes, pq.ByteArray(stringField(r, c)))
		}
		_, err = w.(*file.ByteArrayColumnChunkWriter).WriteBatch(cw.bytes, nil, nil)
	case colRecLogID:
		for _, r := range rows {
			if r.RecLogID == "" {
				cw.defs = append(cw.defs, 0)
				continue
			}
			cw.defs = append(cw.defs, 1)
			cw.bytes = append(cw.bytes, pq.ByteArray(r.RecLogID))
		}
		_, err = w.(*file.ByteArrayColumnChunkWriter).WriteBatch(cw.bytes, cw.defs, nil)
	case colValue:
		for _, r := range rows {
			if r.Value == nil {
				cw.defs = append(cw.defs, 0)
				continue
			}
			cw.defs = append(cw.defs, 1)
			cw.floats = append(cw.floats, *r.Value)
		}
		_, err = w.(*file.Float64ColumnChunkWriter).WriteBatch(cw.floats, cw.defs, nil)
	case colWeight:
		for _, r := range rows {
			cw.floats = append(cw.floats, r.Weight)
		}
		_, err = w.(*file.Float64ColumnChunkWriter).WriteBatch(cw.floats, nil, nil)
	case colTime, colIngestedAt:
		for _, r := range rows {
			t := r.Time
			if c == colIngestedAt {
				t = r.IngestedAt
			}
			cw.ints = append(cw.ints, t.UnixMicro())
		}
		_, err = w.(*file.Int64ColumnChunkWriter).WriteBatch(cw.ints, nil, nil)
	}
	return err
}

func stringField(r domain.Interaction, c int) string {
	switch c {
	case colEventID:
		return r.EventID
	case colUserID:
		return string(r.UserID)
	case colMovieID:
		return string(r.MovieID)
	default:
		return string(r.Type)
	}
}
