package lambda

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Invoker runs one function invocation: a payload in, the function's answer out. A function
// error is a [Result] with Err set; an error return means the invocation could not run at all.
// [*Instance] (the built bootstrap under the Runtime Interface Emulator) and [InProcess] (the
// handler called in this process) are the two, so that the local API and the local chain do not
// care which runs a function.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) (Result, error)
}

var _ Invoker = (*Instance)(nil)

// Handler is the Lambda runtime's handler interface (aws-lambda-go's lambda.Handler): the raw
// event in, the raw response out.
type Handler interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InProcess invokes a handler in this process as the Lambda runtime would: with a deadline of the
// function's timeout, a Lambda context carrying a request ID and the function's ARN, and an error
// returned by the handler reported as the function's error object.
type InProcess struct {
	Handler Handler
	Name    string        // the function's name, for its ARN in the Lambda context
	Timeout time.Duration // 30 s when zero, as the template's Globals set it
}

// Context returns the context the Lambda runtime would give one invocation of the function: ctx
// with a deadline of the function's timeout, and a Lambda context carrying a new request ID and
// the function's ARN. Call cancel when the invocation is over.
func (p InProcess) Context(ctx context.Context) (_ context.Context, cancel context.CancelFunc) {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel = context.WithTimeout(ctx, timeout)
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16]),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:" + p.Name,
	})
	return ctx, cancel
}

// Invoke implements [Invoker].
func (p InProcess) Invoke(ctx context.Context, payload []byte) (Result, error) {
	ctx, cancel := p.Context(ctx)
	defer cancel()
	start := time.Now()
	out, err := p.Handler.Invoke(ctx, payload)
	res := Result{Payload: out, Duration: time.Since(start)}
	if err != nil {
		// The runtime reports the error's Go type as errorType, as aws-lambda-go does.
		t := reflect.TypeOf(err)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		res.Err = &FunctionError{Type: t.Name(), Message: err.Error()}
		res.Payload, _ = json.Marshal(res.Err)
	}
	return res, nil
}
