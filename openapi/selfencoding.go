package openapi

import (
	"io"
	"reflect"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// selfEncoding is a response body that writes its own JSON, exactly as
// encoding/json writes it after Huma's schema link transformer has added
// its $schema field (a test holds each one to that). The hot answers
// implement it: encoding/json's reflection over a served list was a third
// of the HTTP edge's cost of a cache hit (BenchmarkGetRecommendations).
type selfEncoding interface {
	appendJSON(b []byte, schema string) ([]byte, error)
}

// encoded is what the transformer hands the formats for a selfEncoding
// body: the body and its $schema URL ("" for none) for the JSON format,
// and the link transformer's own output for any other.
type encoded struct {
	body   selfEncoding
	schema string
	linked any
}

// schemaLinks is Huma's schema link transformer (Link header, $schema
// field), installed as huma.DefaultConfig installs it, except that a
// selfEncoding body comes out as encoded, with the $schema the link
// transformer computed for it.
func schemaLinks(c huma.Config) huma.Config {
	link := huma.NewSchemaLinkTransformer("#/components/schemas/", c.SchemasPath)
	c.OnAddOperation = append(c.OnAddOperation, link.OnAddOperation)
	c.Transformers = append(c.Transformers, func(ctx huma.Context, status string, v any) (any, error) {
		out, err := link.Transform(ctx, status, v)
		body, ok := v.(selfEncoding)
		if err != nil || !ok {
			return out, err
		}
		return encoded{body: body, schema: schemaField(out), linked: out}, nil
	})
	return c
}

// schemaField is the $schema the link transformer set on its copy of a
// body: the copy's first field ("" when it made none).
func schemaField(out any) string {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct || v.Elem().NumField() == 0 {
		return ""
	}
	if f := v.Elem().Type().Field(0); f.Tag.Get("json") != "$schema" || f.Type.Kind() != reflect.String {
		return ""
	}
	return v.Elem().Field(0).String()
}

// jsonFormat is Huma's JSON format, which writes an encoded body itself.
var jsonFormat = huma.Format{
	Marshal: func(w io.Writer, v any) error {
		e, ok := v.(encoded)
		if !ok {
			return huma.DefaultJSONFormat.Marshal(w, v)
		}
		buf := encodeBuffers.Get().(*[]byte)
		defer encodeBuffers.Put(buf)
		b, err := e.body.appendJSON((*buf)[:0], e.schema)
		if err != nil {
			return err
		}
		b = append(b, '\n') // as json.Encoder ends each value
		*buf = b
		_, err = w.Write(b)
		return err
	},
	Unmarshal: huma.DefaultJSONFormat.Unmarshal,
}

var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// formats are Huma's default formats with jsonFormat for JSON; any other
// (CBOR, when imported) marshals the link transformer's output, as before.
func formats() map[string]huma.Format {
	out := make(map[string]huma.Format, len(huma.DefaultFormats))
	for k, f := range huma.DefaultFormats {
		marshal := f.Marshal
		f.Marshal = func(w io.Writer, v any) error {
			if e, ok := v.(encoded); ok {
				v = e.linked
			}
			return marshal(w, v)
		}
		out[k] = f
	}
	out["application/json"], out["json"] = jsonFormat, jsonFormat
	return out
}
