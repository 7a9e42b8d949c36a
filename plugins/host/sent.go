package host

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc/stats"
)

// sentKey marks a call's context with the flag sentTracker sets.
type sentKey struct{}

// sentTracker is a gRPC stats handler that tells whether a call's request
// went out on a connection to the plugin: a call that failed before (the
// process had died, and no connection could be made) never reached it,
// and is no attempt of its task.
type sentTracker struct{}

var _ stats.Handler = sentTracker{}

// withSent returns ctx marked so that *sent is set once the call made with
// it has its stream on a connection.
func withSent(ctx context.Context) (context.Context, *atomic.Bool) {
	sent := new(atomic.Bool)
	return context.WithValue(ctx, sentKey{}, sent), sent
}

func (sentTracker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (sentTracker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.OutHeader); !ok {
		return
	}
	if sent, ok := ctx.Value(sentKey{}).(*atomic.Bool); ok {
		sent.Store(true)
	}
}

func (sentTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (sentTracker) HandleConn(context.Context, stats.ConnStats) {}
