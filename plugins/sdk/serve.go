package sdk

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net/http"
	"os"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/hookrelay/hookrelay/plugins/proto"
)

// Serve serves h to hookrelay and returns when hookrelay stops the plugin.
// Call it from main. Started by hand rather than by hookrelay, it prints
// that the binary is a plugin and exits with status 1.
func Serve(h Handler) {
	// hclog's JSON lines on stderr are parsed by the host and logged with
	// their level under the plugin's name.
	log := hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Output:     os.Stderr,
		JSONFormat: true,
		Level:      hclog.Info,
	})
	// The standard logger's lines too, at info (or the level a [WARN]
	// prefix says): a handler's log.Printf shows in the server's log.
	stdlog.SetOutput(log.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}))
	stdlog.SetFlags(0)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{PluginName: &servePlugin{srv: &server{h: h, log: log}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
			return grpc.NewServer(opts...)
		},
		Logger: log,
	})
}

// servePlugin is the plugin side of go-plugin's plugin map.
type servePlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv *server
}

var _ plugin.GRPCPlugin = (*servePlugin)(nil)

func (p *servePlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterHandlerServer(s, p.srv)
	return nil
}

func (p *servePlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("sdk: the plugin side has no client")
}

// server adapts a Handler to the gRPC service.
type server struct {
	pb.UnimplementedHandlerServer
	h       Handler
	log     hclog.Logger
	running running
}

func (s *server) Configure(ctx context.Context, req *pb.ConfigureRequest) (_ *pb.ConfigureResponse, err error) {
	c, ok := s.h.(Configurer)
	if !ok {
		return &pb.ConfigureResponse{}, nil
	}
	defer s.recover("configure", &err)
	if err := c.Configure(ctx, req.GetConfig()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &pb.ConfigureResponse{}, nil
}

func (s *server) Health(ctx context.Context, _ *pb.HealthRequest) (_ *pb.HealthResponse, err error) {
	c, ok := s.h.(HealthChecker)
	if !ok {
		return &pb.HealthResponse{}, nil
	}
	defer s.recover("health", &err)
	if err := c.Health(ctx); err != nil {
		return &pb.HealthResponse{Error: Tail(err.Error())}, nil
	}
	return &pb.HealthResponse{}, nil
}

func (s *server) Handle(ctx context.Context, req *pb.HandleRequest) (*pb.HandleResponse, error) {
	t := taskFromProto(req)
	done := s.running.start(t)
	res := s.handle(ctx, t)
	done()
	st := pb.Status_STATUS_SUCCEEDED
	if res.Failed {
		st = pb.Status_STATUS_FAILED
	}
	return &pb.HandleResponse{
		Status:   st,
		ExitCode: int32(res.ExitCode),
		Output:   Tail(res.Output),
		Error:    Tail(res.Error),
	}, nil
}

// handle runs the handler, turning an error or a panic into a failed result.
func (s *server) handle(ctx context.Context, t *Task) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("handler panicked", "task", t.TaskID, "route", t.Route, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			res = Result{Failed: true, Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	res, err := s.h.Handle(ctx, t)
	if err != nil {
		res.Failed = true
		if res.Error == "" {
			res.Error = err.Error()
		}
	}
	return res
}

// recover turns a panic in a Configure or Health call into an error.
func (s *server) recover(call string, err *error) {
	if r := recover(); r != nil {
		s.log.Error("handler panicked", "call", call, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "%s: panic: %v", call, r)
	}
}

func taskFromProto(req *pb.HandleRequest) *Task {
	h := make(http.Header, len(req.GetHeaders()))
	for k, v := range req.GetHeaders() {
		h[k] = v.GetValues()
	}
	return &Task{
		TaskID:  req.GetTaskId(),
		Route:   req.GetRoute(),
		Attempt: int(req.GetAttempt()),
		Event:   req.GetEvent(),
		Body:    req.GetBody(),
		Header:  h,
		Config:  req.GetConfig(),
	}
}
