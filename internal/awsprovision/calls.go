package awsprovision

import (
	"context"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// journal records the AWS calls of one Grant or Revoke. It travels in the context, so
// every client records into the journal of the change it works for, whichever
// goroutine or cached client makes the call.
type journal struct {
	mu    sync.Mutex
	calls []Call
}

type journalKey struct{}

func withJournal(ctx context.Context) (context.Context, *journal) {
	j := &journal{}
	return context.WithValue(ctx, journalKey{}, j), j
}

func journalOf(ctx context.Context) *journal {
	j, _ := ctx.Value(journalKey{}).(*journal)
	return j
}

func (j *journal) add(c Call) {
	j.mu.Lock()
	j.calls = append(j.calls, c)
	j.mu.Unlock()
}

// last returns the call recorded last: right after a call returns, that call (a change's
// calls are made one after another).
func (j *journal) last() Call {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.calls) == 0 {
		return Call{}
	}
	return j.calls[len(j.calls)-1]
}

func (j *journal) all() []Call {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Call(nil), j.calls...)
}

// iamPrefixes maps SDK service ids to IAM action prefixes.
var iamPrefixes = map[string]string{
	"IAM":           "iam",
	"STS":           "sts",
	"Organizations": "organizations",
	"SSO Admin":     "sso",
	"identitystore": "identitystore",
}

func iamPrefix(serviceID string) string {
	if p, ok := iamPrefixes[serviceID]; ok {
		return p
	}
	return serviceID
}

// recordCalls returns the API option of a client acting in account as role: it records
// each operation (after its retries) in the context's journal with AWS's request id, and
// turns an AccessDenied into an *Error that names the action and the role. It sits in
// the Initialize step, above the retry loop, so it sees the operation's final answer.
func recordCalls(account, role string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("GatehouseCallJournal", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			c := Call{Service: iamPrefix(middleware.GetServiceID(ctx)), Operation: middleware.GetOperationName(ctx), Account: account, Role: role}
			c.RequestID, _ = awsmiddleware.GetRequestIDMetadata(md)
			if err != nil {
				if c.RequestID == "" {
					c.RequestID = requestIDOf(err)
				}
				c.ErrorCode = errorCode(err)
				if c.ErrorCode == "" {
					c.ErrorCode = "error"
				}
				if isAccessDenied(err) {
					err = explainDenied(c, err)
				}
			}
			if j := journalOf(ctx); j != nil {
				j.add(c)
			}
			return out, md, err
		}), middleware.After)
	}
}
