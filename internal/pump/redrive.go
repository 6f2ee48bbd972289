package pump

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// RedriveAPI is the part of the SQS client Redrive uses, with the SDK's
// exact signatures.
type RedriveAPI interface {
	ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(ctx context.Context, params *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, params *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

var _ RedriveAPI = (*sqs.Client)(nil)

// redriveVisibility hides the dead-letter messages Redrive has received
// while it moves them, in seconds; one it fails to move shows up again
// after it.
const redriveVisibility = 60

// Redrive moves every message in the dead-letter queue at dlqURL to the
// queue at queueURL, once its cause has been fixed, and returns how many
// it moved. Each body, with its message attributes, is sent to queueURL
// first and deleted from the dead-letter queue after: a failure leaves a
// message in one queue or, if only the delete failed, in both, never in
// neither. The copy is a new message, with a receive count of zero.
//
// It stops when a receive finds the dead-letter queue empty, or at the
// first error. It is the local stand-in for SQS's StartMessageMoveTask,
// which emulators lack, and handles standard queues only: FIFO messages
// would need their group and deduplication ids.
func Redrive(ctx context.Context, api RedriveAPI, dlqURL, queueURL string) (int, error) {
	moved := 0
	for {
		out, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(dlqURL),
			MaxNumberOfMessages:   MaxBatchSize,
			WaitTimeSeconds:       1, // a short poll of SQS may miss messages
			VisibilityTimeout:     redriveVisibility,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			return moved, fmt.Errorf("redrive: receive from %s: %w", dlqURL, err)
		}
		if len(out.Messages) == 0 {
			return moved, nil
		}
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if _, err := api.SendMessage(ctx, &sqs.SendMessageInput{
				QueueUrl:          aws.String(queueURL),
				MessageBody:       m.Body,
				MessageAttributes: m.MessageAttributes,
			}); err != nil {
				return moved, fmt.Errorf("redrive: send message %s to %s: %w", id, queueURL, err)
			}
			moved++
			if _, err := api.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl:      aws.String(dlqURL),
				ReceiptHandle: m.ReceiptHandle,
			}); err != nil {
				return moved, fmt.Errorf("redrive: message %s was sent to %s but is still in %s: %w", id, queueURL, dlqURL, err)
			}
		}
	}
}
