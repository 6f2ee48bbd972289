package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/postmill/postmill/internal/awsenv"
	"github.com/postmill/postmill/internal/blob"
	"github.com/postmill/postmill/internal/handler"
	"github.com/postmill/postmill/internal/publish"
	"github.com/postmill/postmill/internal/s3store"
)

// memResult is what one batch cost in memory, measured in a process that
// holds nothing else, as the function's does.
type memResult struct {
	Keys        int
	Baseline    uint64 // live heap after setup, before the batch
	PeakHeap    uint64 // highest heap sampled during the batch
	PeakGoal    uint64 // highest GC heap goal during the batch
	Allocated   uint64 // bytes allocated by the batch
	PeakRSS     uint64 // the process's high-water resident set
	MS          int64
	Requests    int64
	WrittenKeys int
}

// measureMemory publishes keys (already uploaded) as one SQS batch in a
// child process wired like the function, and reads its heap.
func measureMemory(ctx context.Context, e *emulator, src, dst string, keys []string) (memResult, error) {
	self, err := os.Executable()
	if err != nil {
		return memResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-memory-child", "-child-src", src, "-child-dst", dst, "-child-keys", strings.Join(keys, ","))
	cmd.Env = append(os.Environ(), e.functionEnv(src, dst)...)
	cmd.Env = append(cmd.Env, "AWS_REGION="+region)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return memResult{}, fmt.Errorf("memory child: %v\n%s", err, tail(stderr.String(), 2000))
	}
	var r memResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return memResult{}, fmt.Errorf("memory child said %q: %w", stdout.String(), err)
	}
	return r, nil
}

// memoryChild is the child's side: the function's setup (from the same
// environment), then one batch, with the heap sampled every 200 µs.
func memoryChild(src, dst string, keys []string) error {
	ctx := context.Background()
	awsCfg, err := awsenv.Load()
	if err != nil {
		return err
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != ""
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	r, err := newRenderer()
	if err != nil {
		return err
	}
	srcB, dstB := blob.NewCounter(s3store.New(client, src)), blob.NewCounter(s3store.New(client, dst))
	eng := publish.New(srcB, dstB, r, publish.Options{})
	rec := &recordingPublisher{eng: eng}
	h := handler.New(rec, nil, nil)

	var ev events.SQSEvent
	for _, k := range keys {
		ev.Records = append(ev.Records, s3Message(src, k, false))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res := memResult{Keys: len(keys), Baseline: ms.HeapAlloc}
	allocated0 := ms.TotalAlloc

	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			res.PeakHeap = max(res.PeakHeap, samples[0].Value.Uint64())
			res.PeakGoal = max(res.PeakGoal, samples[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	resp, err := h.HandleSQS(ctx, ev)
	res.MS = time.Since(start).Milliseconds()
	close(stop)
	<-done
	if err != nil {
		return err
	}
	if len(resp.BatchItemFailures) > 0 {
		return fmt.Errorf("batch item failures: %v", rec.last.Failed())
	}
	runtime.ReadMemStats(&ms)
	res.PeakHeap = max(res.PeakHeap, ms.HeapAlloc)
	res.Allocated = ms.TotalAlloc - allocated0
	res.PeakRSS = peakRSS()
	res.Requests = srcB.Snapshot().Add(dstB.Snapshot()).Requests()
	res.WrittenKeys = len(rec.last.Written)
	return json.NewEncoder(os.Stdout).Encode(res)
}

// peakRSS reads the process's high-water resident set from /proc, 0
// where there is none.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
