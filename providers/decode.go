package providers

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
)

// DecodeJSON decodes a JSON object body into generic values; numbers become
// float64, which is what expr compares with.
func DecodeJSON(body []byte) (map[string]any, error) {
	// Unmarshal decodes from body itself; a Decoder copied it into buffers
	// of its own, about 4 times its size in garbage. Unmarshal refuses
	// trailing data too.
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%w: body is not a JSON object: %v", ErrMalformed, err)
	}
	if v == nil {
		return nil, fmt.Errorf("%w: body is null, not a JSON object", ErrMalformed)
	}
	return v, nil
}

// IsForm reports whether the content type is application/x-www-form-urlencoded.
func IsForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// DecodeForm decodes a form body: one value per field as a string, several
// as a list.
func DecodeForm(body []byte) (map[string]any, url.Values, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: form body: %v", ErrMalformed, err)
	}
	out := make(map[string]any, len(vals))
	for k, vs := range vals {
		if len(vs) == 1 {
			out[k] = vs[0]
		} else {
			l := make([]any, len(vs))
			for i, v := range vs {
				l[i] = v
			}
			out[k] = l
		}
	}
	return out, vals, nil
}

// FormPayload returns the single payload field of a form body: the JSON
// that GitHub, Gitea and Forgejo wrap in a form when a webhook's content
// type is application/x-www-form-urlencoded. A form without exactly one
// payload field is ErrMalformed.
func FormPayload(body []byte) ([]byte, error) {
	_, vals, err := DecodeForm(body)
	if err != nil {
		return nil, err
	}
	if n := len(vals["payload"]); n != 1 {
		return nil, fmt.Errorf("%w: form body has %d payload fields, want 1", ErrMalformed, n)
	}
	return []byte(vals.Get("payload")), nil
}

// DecodeJSONOrFormPayload decodes a body that is either a JSON object or,
// when contentType is a form's, a form whose payload field holds one (see
// FormPayload).
func DecodeJSONOrFormPayload(contentType string, body []byte) (map[string]any, error) {
	if !IsForm(contentType) {
		return DecodeJSON(body)
	}
	payload, err := FormPayload(body)
	if err != nil {
		return nil, err
	}
	return DecodeJSON(payload)
}

// Str walks nested maps by keys and returns the string found, or "".
func Str(v any, keys ...string) string {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch s := v.(type) {
	case string:
		return s
	case float64:
		return fmt.Sprint(int64(s))
	case json.Number:
		return s.String()
	}
	return ""
}
