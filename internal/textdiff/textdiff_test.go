package textdiff

import "testing"

func TestFirst(t *testing.T) {
	for _, tc := range []struct {
		name, want, got, diff string
	}{
		{
			name: "one line changed",
			want: "a\nb\nc\nd\n", got: "a\nB\nc\nd\n",
			diff: "@@ line 2 @@\n  a\n- b\n+ B\n  c\n  d\n",
		},
		{
			name: "line added at the end",
			want: "a\n", got: "a\nb\n",
			diff: "@@ line 2 @@\n  a\n+ b\n",
		},
		{
			name: "no trailing newline",
			want: "x\ny", got: "x\nz",
			diff: "@@ line 2 @@\n  x\n- y\n+ z\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := First(tc.want, tc.got); got != tc.diff {
				t.Errorf("First =\n%s\nwant\n%s", got, tc.diff)
			}
		})
	}
}
