package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	pb "github.com/hookrelay/hookrelay/plugins/proto"
)

func TestTail(t *testing.T) {
	long := strings.Repeat("x", MaxOutput)
	tests := []struct {
		name, in, want string
	}{
		{"short", "hello", "hello"},
		{"exactly max", long, long},
		{"keeps the end", "drop" + long, long},
		// "é" is two bytes: cutting MaxOutput bytes from the end would
		// split it, so the partial rune goes too.
		{"rune boundary", "é" + long[1:], long[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Tail(tt.in)
			if got != tt.want || !utf8.ValidString(got) || len(got) > MaxOutput {
				t.Errorf("Tail: %d bytes %q..., want %d bytes", len(got), got[:min(len(got), 8)], len(tt.want))
			}
		})
	}
}

func TestDecode(t *testing.T) {
	task := &Task{Event: json.RawMessage(`{"type":"push","repo":"a/b"}`), Config: json.RawMessage(`{"n":2}`)}
	var ev struct{ Type, Repo string }
	if err := task.DecodeEvent(&ev); err != nil || ev.Type != "push" || ev.Repo != "a/b" {
		t.Errorf("DecodeEvent: %+v, %v", ev, err)
	}
	var opt struct{ N int }
	if err := task.DecodeConfig(&opt); err != nil || opt.N != 2 {
		t.Errorf("DecodeConfig: %+v, %v", opt, err)
	}
	if err := (&Task{}).DecodeEvent(&ev); err == nil {
		t.Error("DecodeEvent of no event succeeded")
	}
	if err := (&Task{}).DecodeConfig(&opt); err != nil {
		t.Errorf("DecodeConfig of no options: %v", err)
	}
}

// handlerFunc is a Handler from a function.
type handlerFunc func(context.Context, *Task) (Result, error)

func (f handlerFunc) Handle(ctx context.Context, t *Task) (Result, error) { return f(ctx, t) }

func TestServerHandle(t *testing.T) {
	tests := []struct {
		name string
		h    handlerFunc
		want *pb.HandleResponse
	}{
		{"success", func(_ context.Context, t *Task) (Result, error) {
			return Result{Output: t.TaskID + " " + t.Header.Get("X-A")}, nil
		}, &pb.HandleResponse{Status: pb.Status_STATUS_SUCCEEDED, Output: "id-1 b"}},
		{"failed result", func(context.Context, *Task) (Result, error) {
			return Result{Failed: true, ExitCode: 2, Error: "no"}, nil
		}, &pb.HandleResponse{Status: pb.Status_STATUS_FAILED, ExitCode: 2, Error: "no"}},
		{"error", func(context.Context, *Task) (Result, error) {
			return Result{Output: "partial"}, errors.New("downstream said 500")
		}, &pb.HandleResponse{Status: pb.Status_STATUS_FAILED, Output: "partial", Error: "downstream said 500"}},
		{"panic", func(context.Context, *Task) (Result, error) {
			panic("nil map")
		}, &pb.HandleResponse{Status: pb.Status_STATUS_FAILED, Error: "panic: nil map"}},
		{"long output", func(context.Context, *Task) (Result, error) {
			return Result{Output: "x" + strings.Repeat("y", MaxOutput)}, nil
		}, &pb.HandleResponse{Status: pb.Status_STATUS_SUCCEEDED, Output: strings.Repeat("y", MaxOutput)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &server{h: tt.h, log: hclog.NewNullLogger()}
			got, err := s.Handle(t.Context(), &pb.HandleRequest{
				TaskId:  "id-1",
				Headers: map[string]*pb.HeaderValues{http.CanonicalHeaderKey("x-a"): {Values: []string{"b"}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.GetStatus() != tt.want.GetStatus() || got.GetExitCode() != tt.want.GetExitCode() ||
				got.GetOutput() != tt.want.GetOutput() || got.GetError() != tt.want.GetError() {
				t.Errorf("Handle = %v, want %v", got, tt.want)
			}
		})
	}
}

type configPanics struct{ handlerFunc }

func (configPanics) Configure(context.Context, json.RawMessage) error { panic("bad") }
func (configPanics) Health(context.Context) error                     { return errors.New("slack unreachable") }

func TestServerConfigureHealth(t *testing.T) {
	s := &server{h: configPanics{}, log: hclog.NewNullLogger()}
	if _, err := s.Configure(t.Context(), &pb.ConfigureRequest{}); err == nil || !strings.Contains(err.Error(), "configure: panic: bad") {
		t.Errorf("Configure: %v, want the panic as an error", err)
	}
	resp, err := s.Health(t.Context(), &pb.HealthRequest{})
	if err != nil || resp.GetError() != "slack unreachable" {
		t.Errorf("Health = %v, %v; want the handler's report", resp, err)
	}
	// A Handler without the optional interfaces is configured and healthy.
	plain := &server{h: handlerFunc(nil), log: hclog.NewNullLogger()}
	if _, err := plain.Configure(t.Context(), &pb.ConfigureRequest{Config: []byte(`{}`)}); err != nil {
		t.Errorf("Configure: %v", err)
	}
	if resp, err := plain.Health(t.Context(), &pb.HealthRequest{}); err != nil || resp.GetError() != "" {
		t.Errorf("Health = %v, %v", resp, err)
	}
}
