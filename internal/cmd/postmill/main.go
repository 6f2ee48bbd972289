// Command postmill is the authors' tool: it checks posts with the same
// code the function publishes them with, previews the site locally exactly
// as the CDN will serve it, uploads posts to the source bucket, and reads
// back the status the function left for each of them.
//
// It is wiring and presentation only: parsing, rendering and publishing
// are packages post, site and publish, and serving is package edge. It is
// not a deploy tool; Terraform and `make deploy` are.
//
// See `postmill help` for the commands, and how a file's source key is
// chosen.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command for args (without the program name): it
// returns the exit status. An interrupt ends a running preview or wait.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return newApp(stdout, stderr).run(ctx, args)
}

// Exit statuses.
const (
	exitOK      = 0
	exitProblem = 1 // a post is or would be rejected, or the command failed
	exitUsage   = 2
)

// app holds what a command reads from its surroundings, so that tests can
// give it a fixed clock and environment.
type app struct {
	stdout, stderr io.Writer
	lookup         func(string) (string, bool) // the environment
	now            func() time.Time

	// pollEvery is how often preview -watch looks at the folder and
	// publish -wait at the status object.
	pollEvery time.Duration
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: stdout, stderr: stderr, lookup: os.LookupEnv, now: time.Now, pollEvery: time.Second}
}

// command is one subcommand.
type command struct {
	name  string
	args  string // the synopsis after the name
	short string // one line for the command list
	long  string // what `postmill help <name>` says before the flags

	// setup declares the command's flags on fs and returns what runs the
	// command once they are parsed, with the arguments that follow them.
	setup func(fs *flag.FlagSet) func(ctx context.Context, a *app, args []string) int
}

var commands []*command // in the order help lists them; filled in by init

func init() {
	commands = []*command{checkCommand, previewCommand, publishCommand, statusCommand}
}

const usageHead = `postmill checks, previews and publishes the posts of a postmill blog.

Usage:

`

const usageTail = `
Source keys: a post is stored at "posts/" + its path relative to a root
folder, and its key decides its page (the :filename and :section of the
permalink pattern). The root is -root when given; otherwise the folder of
the file, or for a file in a page bundle (a folder holding index.md) the
folder above the bundle, so that

	drafts/velocity.md          is posts/velocity.md
	drafts/talk/index.md        is posts/talk/index.md
	drafts/talk/slides.pdf      is posts/talk/slides.pdf

A folder named on the command line is its own root (or, if it is a page
bundle, the folder above it), and stands for every file in it; names
starting with "." are skipped.

Site settings come from the environment exactly as in the function
(SITE_BASE_URL, PERMALINK, TIME_ZONE, ALLOW_HTML and the rest), so that
paths and dates come out the same.

publish and status use the AWS SDK's usual configuration (AWS_PROFILE,
AWS_REGION, credentials); AWS_ENDPOINT_URL, or -endpoint, points them at
an emulator. Without -bucket they use the local stack's source bucket,
from .run/outputs.json, which ` + "`make run`" + ` writes.

Exit status: 0 when all is well, 1 when a post is (or would be) rejected
or the command fails, 2 for a usage error.

Run "postmill help <command>" for a command's flags.
`

func (a *app) usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands {
		fmt.Fprintf(w, "\tpostmill %s %s\n\t    %s\n", c.name, c.args, c.short)
	}
	fmt.Fprintf(w, "\tpostmill help [COMMAND]\n\t    this text, or a command's flags\n")
	fmt.Fprint(w, usageTail)
}

func (a *app) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		a.usage(a.stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			a.usage(a.stdout)
			return exitOK
		}
		c := lookupCommand(rest[0])
		if c == nil {
			fmt.Fprintf(a.stderr, "postmill help: unknown command %q\n", rest[0])
			return exitUsage
		}
		fs, _ := c.flagSet(a.stdout)
		fs.Usage()
		return exitOK
	}
	c := lookupCommand(name)
	if c == nil {
		fmt.Fprintf(a.stderr, "postmill: unknown command %q; run \"postmill help\"\n", name)
		return exitUsage
	}
	fs, runCommand := c.flagSet(a.stderr)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	return runCommand(ctx, a, fs.Args())
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (c *command) flagSet(w io.Writer) (*flag.FlagSet, func(context.Context, *app, []string) int) {
	fs := flag.NewFlagSet("postmill "+c.name, flag.ContinueOnError)
	fs.SetOutput(w)
	runCommand := c.setup(fs)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: postmill %s %s\n\n%s\n", c.name, c.args, c.long)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs, runCommand
}

// usageError reports a bad invocation of the named command.
func (a *app) usageError(name, format string, args ...any) int {
	fmt.Fprintf(a.stderr, "postmill %s: %s\nrun \"postmill help %s\" for usage\n", name, fmt.Sprintf(format, args...), name)
	return exitUsage
}

// fail reports a failure of the named command itself, as opposed to a
// problem in a post.
func (a *app) fail(name string, err error) int {
	fmt.Fprintf(a.stderr, "postmill %s: %v\n", name, err)
	return exitProblem
}
