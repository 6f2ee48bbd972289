package s3event

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Record
	}{
		{
			name: "moto put: zone-less time, escaped slash, no sequencer",
			body: read(t, "moto-put.json"),
			want: []Record{{EventName: "ObjectCreated:Put", Bucket: "srcbkt", Key: "posts/über café+1.md", Size: 1,
				ETag: "9dd4e461268c8034f5c8564e155c67a6", Time: time.Date(2026, 11, 22, 5, 36, 2, 331127000, time.UTC)}},
		},
		{
			name: "aws delete marker with sequencer and form-encoded space",
			body: read(t, "aws-delete-marker.json"),
			want: []Record{{EventName: "ObjectRemoved:DeleteMarkerCreated", Bucket: "blog-source", Key: "posts/my post.md",
				VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", Sequencer: "0066F1A2B3C4D5E6F7", Time: time.Date(2026, 3, 4, 10, 11, 12, 345000000, time.UTC)}},
		},
		{
			name: "sns envelope",
			body: `{"Type":"Notification","Message":"{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Copy\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"posts/a%2Bb.md\"}}}]}"}`,
			want: []Record{{EventName: "ObjectCreated:Copy", Bucket: "b", Key: "posts/a+b.md"}},
		},
		{
			name: "records from other sources are skipped",
			body: `{"Records":[{"eventSource":"aws:sqs","eventName":"x","s3":{"object":{"key":"k"}}}]}`,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d records, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, body string
		test       bool
	}{
		{"test event", read(t, "moto-test-event.json"), true},
		{"not json", "hello", false},
		{"json without records", `{"foo":1}`, false},
		{"bad escape in key", `{"Records":[{"eventSource":"aws:s3","s3":{"object":{"key":"posts/%zz.md"}}}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.body)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrTestEvent); got != tt.test {
				t.Errorf("errors.Is(err, ErrTestEvent) = %v, want %v (err %v)", got, tt.test, err)
			}
		})
	}
}

func TestRemoved(t *testing.T) {
	if !(Record{EventName: "ObjectRemoved:DeleteMarkerCreated"}).Removed() || (Record{EventName: "ObjectCreated:Put"}).Removed() {
		t.Error("Removed misclassifies")
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"moto-put.json", "moto-test-event.json", "aws-delete-marker.json"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, body string) {
		recs, err := Parse(body)
		if err != nil && recs != nil {
			t.Fatal("records returned with an error")
		}
	})
}
