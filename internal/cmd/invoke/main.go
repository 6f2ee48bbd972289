// Command invoke runs a built function once, locally, through the Lambda
// Runtime API, with the environment the local stack's Terraform gave it,
// and prints its response: `make rebuild` uses it to run functions/rebuild
// against the emulator.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/postmill/postmill/internal/lambdart"
)

func main() {
	bootstrap := flag.String("bootstrap", "", "the function's binary, built for this machine")
	outputs := flag.String("outputs", ".run/outputs.json", "terraform output -json of the local stack")
	payload := flag.String("payload", "{}", "the event, as JSON")
	timeout := flag.Duration("timeout", 15*time.Minute, "the function's timeout")
	flag.Parse()
	if err := run(*bootstrap, *outputs, *payload, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(bootstrap, outputs, payload string, timeout time.Duration) error {
	raw, err := os.ReadFile(outputs)
	if err != nil {
		return fmt.Errorf("%w (is `make run` up?)", err)
	}
	var tf struct {
		Env struct {
			Value map[string]string `json:"value"`
		} `json:"function_environment"`
	}
	if err := json.Unmarshal(raw, &tf); err != nil {
		return fmt.Errorf("%s: %w", outputs, err)
	}
	env := []string{"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO"}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range tf.Env.Value {
		env = append(env, k+"="+v)
	}
	ctx := context.Background()
	p, err := lambdart.Start(ctx, bootstrap, env, os.Stderr, lambdart.WithTimeout(timeout))
	if err != nil {
		return err
	}
	defer p.Stop()
	out, err := p.Invoke(ctx, []byte(payload))
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
