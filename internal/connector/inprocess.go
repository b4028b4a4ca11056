package connector

import (
	"context"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types"
	"github.com/conductorone/baton-sdk/pkg/ugrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// inProcessConn is a grpc.ClientConnInterface that dispatches straight to a connector
// server's methods in this process. baton's syncer talks to a connector through a gRPC
// client; its own runner starts the connector as a subprocess for that, which WriteC1Z has
// no need for. Going through the generated service handlers (rather than a hand-written
// client) keeps the request and response shapes exactly what a real transport carries, and
// copying the messages keeps the two sides from sharing memory, as a transport would.
type inProcessConn struct {
	methods     map[string]inProcessMethod
	interceptor grpc.UnaryServerInterceptor
}

type inProcessMethod struct {
	srv     any
	handler grpc.MethodHandler
}

// newInProcessConn serves the read side of a connector: what a sync calls. Provisioning
// services are not registered, so a sync cannot change anything in AWS.
func newInProcessConn(ctx context.Context, srv types.ConnectorServer) *inProcessConn {
	c := &inProcessConn{
		methods: map[string]inProcessMethod{},
		// Recovery turns a panic in a syncer into an Internal error for that call, as
		// baton's gRPC server does, instead of taking the process down.
		interceptor: ugrpc.ChainUnaryInterceptors(ugrpc.RecoveryUnaryInterceptor()),
	}
	for _, desc := range []*grpc.ServiceDesc{
		&v2.ConnectorService_ServiceDesc,
		&v2.ResourceTypesService_ServiceDesc,
		&v2.ResourcesService_ServiceDesc,
		&v2.ResourceGetterService_ServiceDesc,
		&v2.EntitlementsService_ServiceDesc,
		&v2.GrantsService_ServiceDesc,
	} {
		for _, m := range desc.Methods {
			c.methods["/"+desc.ServiceName+"/"+m.MethodName] = inProcessMethod{srv: srv, handler: m.Handler}
		}
	}
	return c
}

func (c *inProcessConn) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	m, ok := c.methods[method]
	if !ok {
		return status.Errorf(codes.Unimplemented, "method %s is not served in process", method)
	}
	in, ok := args.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "request of %s is not a protobuf message", method)
	}
	dec := func(dst any) error {
		proto.Merge(dst.(proto.Message), in)
		return nil
	}
	out, err := m.handler(m.srv, ctx, dec, c.interceptor)
	if err != nil {
		return err
	}
	res, ok := out.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "response of %s is not a protobuf message", method)
	}
	proto.Merge(reply.(proto.Message), res)
	return nil
}

func (c *inProcessConn) NewStream(_ context.Context, _ *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Errorf(codes.Unimplemented, "streaming method %s is not served in process", method)
}
