// Command redrive moves the messages in the render function's dead-letter
// queue back to its source queue, once whatever made them fail is fixed:
// `make redrive` runs it against the local stack. The queues are -dlq and
// -queue, or else the dlq_url and queue_url outputs of the applied
// Terraform in -outputs.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postmill/postmill/internal/pump"
)

func main() {
	endpoint := flag.String("endpoint", os.Getenv("AWS_ENDPOINT_URL"), "AWS endpoint, such as the emulator's (empty: AWS)")
	dlq := flag.String("dlq", "", "URL of the dead-letter queue (default: the dlq_url output)")
	queue := flag.String("queue", "", "URL of the queue to move messages to (default: the queue_url output)")
	outputs := flag.String("outputs", ".run/outputs.json", "terraform output -json of the applied stack")
	flag.Parse()
	if err := run(context.Background(), *endpoint, *dlq, *queue, *outputs); err != nil {
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, endpoint, dlq, queue, outputs string) error {
	if dlq == "" || queue == "" {
		raw, err := os.ReadFile(outputs)
		if err != nil {
			return fmt.Errorf("%w (pass -dlq and -queue, or run `make run` first)", err)
		}
		var tf struct {
			DLQ   struct{ Value string } `json:"dlq_url"`
			Queue struct{ Value string } `json:"queue_url"`
		}
		if err := json.Unmarshal(raw, &tf); err != nil {
			return fmt.Errorf("%s: %w", outputs, err)
		}
		if dlq == "" {
			dlq = tf.DLQ.Value
		}
		if queue == "" {
			queue = tf.Queue.Value
		}
		if dlq == "" || queue == "" {
			return fmt.Errorf("%s: no dlq_url or queue_url output", outputs)
		}
	}
	var opts []func(*config.LoadOptions) error
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	n, err := pump.Redrive(ctx, sqs.NewFromConfig(cfg), dlq, queue)
	fmt.Printf("moved %d messages from %s to %s\n", n, dlq, queue)
	return err
}
