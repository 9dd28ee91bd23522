// Command replay is a Lambda function that does no work: it answers every invocation with the
// bytes of the file named by REPLAY_RESPONSE, read once at start. Under the Runtime Interface
// Emulator its Duration is what receiving a payload and sending a response of that size costs, so
// that `firelane bench transform -emulator` can subtract it from the transform's Duration and leave
// the transform's own work.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type replay []byte

// Invoke returns the recorded response; the payload is received in full by the runtime client
// before Invoke is called, as it is for the transform.
func (r replay) Invoke(context.Context, []byte) ([]byte, error) { return r, nil }

func main() {
	b, err := os.ReadFile(os.Getenv("REPLAY_RESPONSE"))
	if err != nil {
		panic("replay: read REPLAY_RESPONSE: " + err.Error())
	}
	lambda.Start(replay(b))
}
