// Package infra_test checks the Terraform configuration in this directory
// as AWS would be asked to create it: the plan of the real-AWS
// configuration (emulator = false), read from `terraform show -json`.
//
// It lives beside the .tf files it checks, with no non-test Go code, so
// that `go test ./...` (and so `make test`) runs it, and a change to
// infra/ and the test that holds it to account sit in one directory.
//
// plan_test.go obtains the plan and models it; security_test.go holds the
// assertions.
package infra_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postmill/postmill/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// How to get the plan without an AWS account:
//
//   - infra/ is copied (without .terraform, state or tfvars) into a
//     temporary directory and initialised there, so the developer's
//     infra/.terraform and state are never touched, a terraform.tfvars
//     with a real domain does not leak in, and the test can run beside
//     `make test-infra`;
//   - Terraform finds hashicorp/aws where `make tf-init` does
//     (infra/infra.mk): TF_PLUGIN_MIRROR, else the first of the mirror
//     directories holding it; failing those, the providers `make tf-init`
//     already put in infra/.terraform (read only, as a mirror); failing
//     that, the registry. The lock file is used read-only, as make does;
//   - the provider talks to a moto emulator (internal/awstest) through
//     aws_endpoint_url, but with emulator = false: the plan is the one a
//     real account would get, with every protection emulator mode leaves
//     out. s3.tf's precondition refuses only emulator = true without an
//     endpoint. moto answers the few reads a plan makes (the caller
//     identity: account 123456789012); nothing is created.

// The mirror directories infra/infra.mk looks in (TF_PLUGIN_MIRROR_DIRS).
func mirrorDirs() []string {
	home, _ := os.UserHomeDir()
	return []string{
		"/opt/tf-plugins",
		filepath.Join(home, ".terraform.d", "plugins"),
		"/usr/share/terraform/plugins",
		"/usr/local/share/terraform/plugins",
	}
}

const awsProvider = "registry.terraform.io/hashicorp/aws"

const initHint = "run `make tf-init` to see the same error outside the test: " +
	"hashicorp/aws comes from a local mirror (TF_PLUGIN_MIRROR, or one of /opt/tf-plugins, " +
	"~/.terraform.d/plugins, /usr/share/terraform/plugins, /usr/local/share/terraform/plugins), " +
	"else from what `make tf-init` installed in infra/.terraform, else from the registry"

// realAWSPlan plans infra/ with emulator = false against a moto emulator
// and returns the plan.
func realAWSPlan(t *testing.T) *stack {
	t.Helper()
	endpoint := awstest.Endpoint(t) // skips with POSTMILL_SKIP_INTEGRATION=1, fails without moto
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatalf("terraform is not on PATH: install Terraform >= 1.5 (make test-infra needs it too): %v", err)
	}
	infra, err := os.Getwd() // go test runs in the package directory, infra/
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(infra)

	tmp := t.TempDir()
	work := filepath.Join(tmp, "infra")
	copyConfig(t, infra, work)
	// The functions' default zips are ../dist/<fn>.zip from infra/; the
	// plan needs only that they exist (a precondition) and their hash.
	// One per directory under functions/, as the Makefile builds them.
	fns, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		if fn.IsDir() {
			writePlaceholderZip(t, filepath.Join(tmp, "dist", fn.Name()+".zip"))
		}
	}
	rc := filepath.Join(tmp, "terraformrc")
	if err := os.WriteFile(rc, []byte(cliConfig(infra)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := terraformEnv(rc)

	start := time.Now()
	terraform(t, env, initHint, tf, "-chdir="+work, "init", "-input=false", "-no-color",
		"-lockfile=readonly", "-backend=false")
	t.Logf("terraform init: %v", time.Since(start).Round(100*time.Millisecond))

	start = time.Now()
	terraform(t, env, "the plan of the real-AWS configuration failed", tf, "-chdir="+work, "plan",
		"-input=false", "-no-color", "-lock=false", "-out=plan.bin",
		"-var", "emulator=false", "-var", "aws_endpoint_url="+endpoint)
	t.Logf("terraform plan (emulator=false, endpoint %s): %v", endpoint, time.Since(start).Round(100*time.Millisecond))

	start = time.Now()
	out := terraform(t, env, "terraform show -json failed", tf, "-chdir="+work, "show", "-json", "-no-color", "plan.bin")
	t.Logf("terraform show -json: %v, %d bytes", time.Since(start).Round(100*time.Millisecond), len(out))

	var p tfPlan
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("terraform show -json: %v", err)
	}
	s := newStack(t, &p)
	// Values given with -var appear as the strings they were given as.
	if v := p.Variables["emulator"].Value; v != false && v != "false" {
		t.Fatalf("the plan has emulator = %v; the test needs the real-AWS configuration", v)
	}
	return s
}

// copyConfig copies the configuration, not its working state: no
// .terraform, state files, tfvars (a real domain or e-mail) or Go files.
func copyConfig(t *testing.T, from, to string) {
	t.Helper()
	skip := regexp.MustCompile(`(\.tfstate(\..*)?|\.tfvars|\.tfvars\.json|\.go|\.lock\.info)$`)
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir() && d.Name() == ".terraform":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case !d.Type().IsRegular() || skip.MatchString(d.Name()):
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", from, err)
	}
}

func writePlaceholderZip(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err == nil {
		_, err = io.WriteString(w, "#!/bin/sh\n")
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, buf.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatalf("placeholder zip: %v", err)
	}
}

// cliConfig is the CLI configuration infra/infra.mk writes to
// .tools/terraformrc, with one fallback make does not need: when there is
// no mirror but `make tf-init` has installed the provider in
// infra/.terraform, that directory (the mirror layout) serves as one.
func cliConfig(infra string) string {
	mirror, set := os.LookupEnv("TF_PLUGIN_MIRROR")
	if !set {
		for _, d := range mirrorDirs() {
			if fi, err := os.Stat(filepath.Join(d, awsProvider)); err == nil && fi.IsDir() {
				mirror = d
				break
			}
		}
	}
	if mirror == "" {
		d := filepath.Join(infra, ".terraform", "providers")
		if fi, err := os.Stat(filepath.Join(d, awsProvider)); err == nil && fi.IsDir() {
			mirror = d
		}
	}
	if mirror == "" {
		return "# No local mirror: providers come from the registry.\n"
	}
	return fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = [%q]
  }
  direct {
    exclude = [%q]
  }
}
`, mirror, awsProvider, awsProvider)
}

// terraformEnv is this environment without anything that could point
// Terraform or the provider elsewhere (TF_VAR_*, TF_DATA_DIR, a CLI
// configuration, AWS profiles and endpoints), plus the emulator's
// credentials.
func terraformEnv(rc string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") || strings.HasPrefix(k, "AWS_") || k == "CHECKPOINT_DISABLE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+rc,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// terraform runs one command and returns its standard output; on failure
// it ends the test with what Terraform said and the hint.
func terraform(t *testing.T, env []string, hint string, tf string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		out := stderr.String()
		if out == "" || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			out += stdout.String()
		}
		if len(out) > 8000 {
			out = "…" + out[len(out)-8000:]
		}
		t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), err, out, hint)
	}
	return stdout.Bytes()
}

// ---- the plan JSON ----------------------------------------------------------

// tfPlan is the part of `terraform show -json` the checks read.
type tfPlan struct {
	Variables map[string]struct {
		Value any `json:"value"`
	} `json:"variables"`
	ResourceChanges []struct {
		Address string `json:"address"`
		Mode    string `json:"mode"`
		Type    string `json:"type"`
		Index   any    `json:"index"`
		Change  struct {
			Actions      []string `json:"actions"`
			After        any      `json:"after"`
			AfterUnknown any      `json:"after_unknown"`
		} `json:"change"`
	} `json:"resource_changes"`
	// Data sources whose arguments are all known are read during the plan
	// and appear only here, complete.
	PriorState struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Mode    string         `json:"mode"`
					Type    string         `json:"type"`
					Index   any            `json:"index"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
				ChildModules []json.RawMessage `json:"child_modules"`
			} `json:"root_module"`
		} `json:"values"`
	} `json:"prior_state"`
	Configuration struct {
		RootModule struct {
			Resources   []*configResource          `json:"resources"`
			ModuleCalls map[string]json.RawMessage `json:"module_calls"`
		} `json:"root_module"`
	} `json:"configuration"`
}

// configResource is a resource block of the configuration. Its
// expressions say what each argument refers to; that is all the plan
// says about values known only after apply (ARNs, ids). Blocks generated
// by `dynamic` are not in it.
type configResource struct {
	Address     string         `json:"address"`
	Mode        string         `json:"mode"`
	Type        string         `json:"type"`
	Name        string         `json:"name"`
	Expressions map[string]any `json:"expressions"`
}

// unknownValue stands for a value the plan knows only after apply.
type unknownValue struct{}

func (unknownValue) String() string { return "(known after apply)" }

var unknown = unknownValue{}

// instance is one resource instance of the plan, its planned values with
// unknownValue where the plan has only after_unknown.
type instance struct {
	Address string
	Mode    string // managed or data
	Type    string
	Index   any
	Values  map[string]any
	Config  *configResource
}

type stack struct {
	instances []*instance
	config    map[string]*configResource
	account   string
	partition string
}

func newStack(t *testing.T, p *tfPlan) *stack {
	t.Helper()
	if len(p.Configuration.RootModule.ModuleCalls) > 0 || len(p.PriorState.Values.RootModule.ChildModules) > 0 {
		t.Fatal("infra/ calls modules: the checks read the root module only; extend them")
	}
	s := &stack{config: map[string]*configResource{}}
	for _, c := range p.Configuration.RootModule.Resources {
		s.config[c.Address] = c
	}
	seen := map[string]bool{}
	for _, rc := range p.ResourceChanges {
		if len(rc.Change.Actions) == 1 && rc.Change.Actions[0] == "delete" {
			continue
		}
		values, _ := merge(rc.Change.After, rc.Change.AfterUnknown).(map[string]any)
		s.add(rc.Address, rc.Mode, rc.Type, rc.Index, values)
		seen[rc.Address] = true
	}
	for _, r := range p.PriorState.Values.RootModule.Resources {
		if r.Mode == "data" && !seen[r.Address] {
			s.add(r.Address, r.Mode, r.Type, r.Index, r.Values)
		}
	}
	for _, i := range s.instances {
		switch i.Type {
		case "aws_caller_identity":
			s.account, _ = i.Values["account_id"].(string)
		case "aws_partition":
			s.partition, _ = i.Values["partition"].(string)
		}
	}
	if s.account == "" || s.partition == "" {
		t.Fatal("the plan has no data.aws_caller_identity or data.aws_partition values")
	}
	return s
}

func (s *stack) add(addr, mode, typ string, index any, values map[string]any) {
	if values == nil {
		values = map[string]any{}
	}
	s.instances = append(s.instances, &instance{
		Address: addr, Mode: mode, Type: typ, Index: index, Values: values,
		Config: s.config[configAddress(addr)],
	})
}

// configAddress drops the instance key: aws_iam_role.function["render"]
// is an instance of aws_iam_role.function.
func configAddress(addr string) string {
	if i := strings.IndexByte(addr, '['); i >= 0 {
		return addr[:i]
	}
	return addr
}

func (s *stack) ofType(typ string) []*instance {
	var out []*instance
	for _, i := range s.instances {
		if i.Type == typ && i.Mode == "managed" {
			out = append(out, i)
		}
	}
	return out
}

// instancesOf lists the instances of one resource block, by its
// configuration address.
func (s *stack) instancesOf(configAddr string) []*instance {
	var out []*instance
	for _, i := range s.instances {
		if configAddress(i.Address) == configAddr {
			out = append(out, i)
		}
	}
	return out
}

// attachedTo lists the managed resources of type typ whose argument attr
// refers to the resource block target (e.g. every
// aws_s3_bucket_public_access_block whose bucket is aws_s3_bucket.site.id).
func (s *stack) attachedTo(typ, attr, target string) []*instance {
	var out []*instance
	for _, i := range s.ofType(typ) {
		for _, ref := range references(i.Config, attr) {
			if refersTo(ref, target) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

func refersTo(ref, target string) bool {
	return ref == target || strings.HasPrefix(ref, target+".") || strings.HasPrefix(ref, target+"[")
}

// references lists what the argument attr of a resource block refers to.
func references(c *configResource, attr string) []string {
	if c == nil {
		return nil
	}
	return expressionRefs(c.Expressions[attr])
}

func expressionRefs(expr any) []string {
	m, _ := expr.(map[string]any)
	refs, _ := m["references"].([]any)
	var out []string
	for _, r := range refs {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// merge lays after_unknown over after: where it says true, the value is
// unknown.
func merge(v, u any) any {
	switch u := u.(type) {
	case bool:
		if u {
			return unknown
		}
	case map[string]any:
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(m)+len(u))
		for k, x := range m {
			out[k] = x
		}
		for k, x := range u {
			out[k] = merge(out[k], x)
		}
		return out
	case []any:
		l, _ := v.([]any)
		out := make([]any, max(len(l), len(u)))
		for i := range out {
			var x, y any
			if i < len(l) {
				x = l[i]
			}
			if i < len(u) {
				y = u[i]
			}
			out[i] = merge(x, y)
		}
		return out
	}
	return v
}

// at walks planned values: string keys into objects, int indices into
// lists. Anything missing is nil.
func at(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[p]
		case int:
			l, ok := v.([]any)
			if !ok || p >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

func isUnknown(v any) bool { _, ok := v.(unknownValue); return ok }
