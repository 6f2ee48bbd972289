// Command fn is the function the lambdart tests run through the Runtime
// API. Its payload says what to do: echo, fail, panic, sleep or exit.
package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Echo  string `json:"echo"`
	Error string `json:"error"`
	Panic string `json:"panic"`
	Sleep string `json:"sleep"` // a time.Duration
	Exit  *int   `json:"exit"`  // exit with this status mid-invocation
	Size  int    `json:"size"`  // answer with this many bytes of padding
}

type response struct {
	Echo         string `json:"echo"`
	PID          int    `json:"pid"`
	RequestID    string `json:"requestId"`
	FunctionARN  string `json:"functionArn"`
	FunctionName string `json:"functionName"`
	MemoryMB     int    `json:"memoryMB"`
	Region       string `json:"region"`
	Handler      string `json:"handler"`
	Custom       string `json:"custom"`
	HasDeadline  bool   `json:"hasDeadline"`
	Padding      string `json:"padding,omitempty"`
}

func handle(ctx context.Context, req request) (response, error) {
	if req.Sleep != "" {
		d, err := time.ParseDuration(req.Sleep)
		if err != nil {
			return response{}, err
		}
		time.Sleep(d)
	}
	if req.Exit != nil {
		os.Exit(*req.Exit)
	}
	if req.Panic != "" {
		panic(req.Panic)
	}
	if req.Error != "" {
		return response{}, errors.New(req.Error)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	_, hasDeadline := ctx.Deadline()
	return response{
		Echo:         req.Echo,
		PID:          os.Getpid(),
		RequestID:    lc.AwsRequestID,
		FunctionARN:  lc.InvokedFunctionArn,
		FunctionName: lambdacontext.FunctionName,
		MemoryMB:     lambdacontext.MemoryLimitInMB,
		Region:       os.Getenv("AWS_REGION"),
		Handler:      os.Getenv("_HANDLER"),
		Custom:       os.Getenv("CUSTOM"),
		HasDeadline:  hasDeadline,
		Padding:      strings.Repeat("x", req.Size),
	}, nil
}

func main() {
	if os.Getenv("FAIL_INIT") != "" {
		os.Exit(2)
	}
	lambda.Start(handle)
}
