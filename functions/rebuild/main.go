// Command rebuild is the Lambda function that rebuilds the whole site from
// the source bucket: after a change of theme or settings, or to repair
// anything. It is invoked by hand (`make rebuild`, or `aws lambda invoke`),
// not by events. All logic lives in internal/publish; this file only wires.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/postmill/postmill/internal/awsenv"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/s3store"
	"github.com/postmill/postmill/internal/site"
)

// Request tunes a rebuild; the zero value rebuilds everything.
type Request struct {
	BatchSize int `json:"batchSize"`
}

func main() {
	log := lambdacontext.NewLogger()
	eng, err := setup(context.Background())
	if err != nil {
		log.Error("cannot start", "reason", err.Error())
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, req Request) (publish.RebuildReport, error) {
		rep, err := eng.Rebuild(ctx, req.BatchSize)
		log.InfoContext(ctx, "rebuild", slog.Int("keys", rep.Keys), slog.Int("written", rep.Written),
			slog.Int("deleted", rep.Deleted), slog.Int("orphans", len(rep.Orphans)), slog.Int("failed", len(rep.Failed)))
		return rep, err
	})
}

func setup(ctx context.Context) (*publish.Engine, error) {
	cfg, err := site.Load(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	src, dst := os.Getenv("SOURCE_BUCKET"), os.Getenv("SITE_BUCKET")
	if src == "" || dst == "" {
		return nil, fmt.Errorf("SOURCE_BUCKET and SITE_BUCKET must be set (got %q and %q)", src, dst)
	}
	awsCfg, err := awsenv.Load()
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != ""
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	r, err := site.NewRenderer(cfg)
	if err != nil {
		return nil, err
	}
	return publish.New(s3store.New(client, src), s3store.New(client, dst), r, publish.Options{}), nil
}
