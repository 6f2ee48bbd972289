// Command render is the Lambda function that publishes posts: it consumes
// S3 event notifications from SQS and brings the site bucket in line with
// the source bucket. All logic lives in internal/; this file only wires.
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
	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/cdn"
	"github.com/postmill/postmill/internal/handler"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/s3store"
	"github.com/postmill/postmill/internal/schedule"
	"github.com/postmill/postmill/internal/site"
	"github.com/postmill/postmill/internal/websub"
)

func main() {
	log := lambdacontext.NewLogger()
	h, err := setup(context.Background(), log)
	if err != nil {
		log.Error("cannot start", "reason", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.HandleSQS)
}

func setup(ctx context.Context, log *slog.Logger) (*handler.Handler, error) {
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
		// Emulators at AWS_ENDPOINT_URL serve buckets by path, not by host.
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != ""
		// Emulators send no response checksums; that is not news.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	r, err := site.NewRenderer(cfg)
	if err != nil {
		return nil, err
	}
	opts := publish.Options{}
	if group := os.Getenv("SCHEDULE_GROUP"); group != "" {
		role, target := os.Getenv("SCHEDULER_ROLE_ARN"), os.Getenv("SCHEDULE_TARGET_ARN")
		if role == "" || target == "" {
			return nil, fmt.Errorf("SCHEDULE_GROUP is set, so SCHEDULER_ROLE_ARN and SCHEDULE_TARGET_ARN must be too")
		}
		api, err := schedule.NewClient(awsCfg)
		if err != nil {
			return nil, err
		}
		opts.Scheduler = schedule.New(api, group, role, target)
	}
	srcB, dstB := blob.NewCounter(s3store.New(client, src)), blob.NewCounter(s3store.New(client, dst))
	eng := publish.New(srcB, dstB, r, opts)
	hopts := []handler.Option{handler.WithMeter(func() blob.Counts { return srcB.Snapshot().Add(dstB.Snapshot()) })}
	if cfg.HubURL != "" { // WEBSUB_HUB_URL: ping the hub with the feeds each batch changed
		feedURL := func(key string) string { return cfg.URL("/" + key) } // as the feeds' rel="self"
		hopts = append(hopts, handler.WithPinger(websub.New(nil, cfg.HubURL), feedURL))
	}
	if id := os.Getenv("DISTRIBUTION_ID"); id != "" {
		api, err := cdn.NewClient(awsCfg)
		if err != nil {
			return nil, err
		}
		return handler.New(eng, cdn.New(api, id, 0, nil), log, hopts...), nil
	}
	return handler.New(eng, nil, log, hopts...), nil
}
