package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/hookrelay/hookrelay/store"
)

// answerStored's answer names only what was stored: a duplicate lists no
// delivery and no task (their ids were never stored).
func TestAnswerStored(t *testing.T) {
	q := queued{EventID: "ev2", Routes: []string{"deploy"}, Deliveries: []string{"d1"}, Tasks: []string{"d1"}, Status: "queued"}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantTasks  int
		wantDup    string
	}{
		{"stored", nil, http.StatusAccepted, 1, ""},
		{"duplicate", &store.DuplicateError{Original: "ev1"}, http.StatusOK, 0, "ev1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest("POST", "/hooks/github", nil), rec)
			if err := answerStored(c, tt.err, q); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Deliveries  []string `json:"deliveries"`
				Tasks       []string `json:"tasks"`
				Status      string   `json:"status"`
				DuplicateOf string   `json:"duplicate_of"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.wantStatus || len(got.Tasks) != tt.wantTasks || got.DuplicateOf != tt.wantDup ||
				(tt.wantDup != "" && (got.Deliveries == nil || len(got.Deliveries) != 0)) {
				t.Errorf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	if err := answerStored(echo.New().NewContext(httptest.NewRequest("POST", "/", nil), httptest.NewRecorder()), errors.New("disk"), q); err == nil {
		t.Error("a store failure answered as stored")
	}
}
