// configcheck runs Pulumi's own project and stack config validation, the code the Pulumi CLI
// runs before it starts a program (`pulumi preview`, `up`, `refresh`, ...), on stack files,
// without a Pulumi CLI, a backend or a passphrase.
//
//	configcheck <Pulumi.yaml> <stack-file>...
//
// For each stack file it prints `ok <file>`, or `fail <file>` followed by one line per problem,
// and it exits 1 if any file fails (2 for a usage error or an unreadable Pulumi.yaml).
//
// Two checks, kept apart in the code and in the output:
//
//   - "pulumi:" lines come from Pulumi's SDK (github.com/pulumi/pulumi/sdk/v3, the version the
//     Node.js SDK in package.json is at): workspace.LoadProject, workspace.LoadProjectStack and
//     workspace.ValidateStackConfigAndApplyProjectConfig, called as the CLI calls them. Every key
//     Pulumi.yaml declares without a `default:` must be set ("Stack 'x' is missing configuration
//     value 'y'"), and every typed key must have a value of its type.
//   - "homelab policy:" lines are this repository's own rule, which Pulumi does not check:
//     cloudflare:apiToken and every value under homelab:secrets must be `secure:`, never plaintext.
//
// Secure values are never decrypted: the SDK is given its blinding decrypter (every secret reads
// as "[secret]"), as `pulumi config` does when it must not prompt for a passphrase.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/esc"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: configcheck <Pulumi.yaml> <stack-file>...")
		os.Exit(2)
	}
	project, err := workspace.LoadProject(os.Args[1])
	if err != nil {
		fmt.Printf("fail %s\n  pulumi: %v\n", os.Args[1], err)
		os.Exit(2)
	}
	failed := false
	for _, file := range os.Args[2:] {
		problems, notes := checkStack(project, file)
		if len(problems) == 0 {
			fmt.Printf("ok %s\n", file)
		} else {
			failed = true
			fmt.Printf("fail %s\n", file)
		}
		for _, line := range append(problems, notes...) {
			fmt.Printf("  %s\n", line)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// stackName is what `pulumi stack select` would call the stack: <name> for Pulumi.<name>.yaml,
// otherwise the file's base name without its extension (test/stacks/cabin.yaml: cabin).
func stackName(file string) string {
	base := filepath.Base(file)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	if rest, ok := strings.CutPrefix(name, "Pulumi."); ok && rest != "" {
		return rest
	}
	return name
}

// checkStack runs both checks on one stack file. problems fail the file; notes do not.
func checkStack(project *workspace.Project, file string) (problems, notes []string) {
	// LoadProjectStack treats a missing file as an empty new stack; here that is a mistake.
	if _, err := os.Stat(file); err != nil {
		return []string{fmt.Sprintf("pulumi: cannot read the stack file: %v", err)}, nil
	}
	// The sink gets the loader's warnings (e.g. a key with no value); they are shown, not fatal.
	var warnings bytes.Buffer
	sink := diag.DefaultSink(&warnings, &warnings, diag.FormatOptions{Color: colors.Never})
	stack, err := workspace.LoadProjectStack(sink, project, file)
	if err != nil {
		return []string{fmt.Sprintf("pulumi: %v", err)}, nil
	}
	// One line per diagnostic: the sink starts each with its severity ("warning: ...").
	for _, line := range strings.Split(strings.TrimSpace(warnings.String()), "\n") {
		switch {
		case line == "":
		case len(notes) > 0 && !strings.HasPrefix(line, "warning:") && !strings.HasPrefix(line, "error:"):
			notes[len(notes)-1] += " " + strings.TrimSpace(line)
		default:
			notes = append(notes, "pulumi: "+line)
		}
	}
	if stack.Environment != nil {
		notes = append(notes, "note: the stack imports ESC environments; their values are not resolved here")
	}

	// Check 2 first, on the config exactly as the file has it (before Pulumi adds defaults).
	policy := append(plaintextSecrets(stack.Config), securedElsewhere(stack.Config)...)

	// Check 1: Pulumi's own validation. The encrypter is only used for values from ESC
	// environments (none here: esc.Value{}), so the panic crypter proves it is never called.
	err = workspace.ValidateStackConfigAndApplyProjectConfig(
		context.Background(),
		stackName(file),
		project,
		esc.Value{},
		stack.Config,
		config.NewPanicCrypter(),
		config.NewBlindingDecrypter(),
	)
	if err != nil {
		problems = append(problems, fmt.Sprintf("pulumi: %v", err))
	}
	return append(problems, policy...), notes
}

// --- Check 2: the homelab policy (not a Pulumi check) -------------------------------------

// plaintextSecrets names every value of cloudflare:apiToken and homelab:secrets that the stack
// file writes in plaintext instead of as `secure: ...`.
func plaintextSecrets(cfg config.Map) []string {
	var out []string
	for _, k := range []string{"cloudflare:apiToken", "homelab:secrets"} {
		key, err := config.ParseKey(k)
		if err != nil {
			panic(err)
		}
		value, ok := cfg[key]
		if !ok {
			continue
		}
		// The SDK's JSON form of a value writes each ciphertext as {"secure": "..."}.
		raw, err := value.MarshalJSON()
		if err != nil {
			out = append(out, fmt.Sprintf("homelab policy: %s cannot be read: %v", k, err))
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			out = append(out, fmt.Sprintf("homelab policy: %s cannot be read: %v", k, err))
			continue
		}
		for _, path := range plaintextLeaves(v, k) {
			set := fmt.Sprintf("pulumi config set --secret --path '%s' <value>", path)
			if path == k {
				set = fmt.Sprintf("pulumi config set --secret %s", k)
			}
			out = append(out, fmt.Sprintf("homelab policy: %s is written in plaintext rather than as `secure:`; set it with `%s`", path, set))
		}
	}
	return out
}

// securedElsewhere names every `secure:` value under a homelab key other than homelab:secrets: the
// program passes such values on as they are (into resources and the state), so it refuses them.
func securedElsewhere(cfg config.Map) []string {
	keys := make([]string, 0, len(cfg))
	values := map[string]config.Value{}
	for k, v := range cfg {
		name := k.String()
		if k.Namespace() != "homelab" || name == "homelab:secrets" {
			continue
		}
		keys = append(keys, name)
		values[name] = v
	}
	sort.Strings(keys)
	var out []string
	for _, name := range keys {
		v := values[name]
		raw, err := v.MarshalJSON()
		if err != nil {
			continue
		}
		var decoded any
		if err := json.Unmarshal(raw, &decoded); err != nil {
			continue
		}
		for _, path := range secureLeaves(decoded, name) {
			out = append(out, fmt.Sprintf("homelab policy: %s is stored as `secure:`, but only homelab:secrets values stay secret (any other value is passed on as it is); keep it in plaintext and put the secret in homelab:secrets.<name>", path))
		}
	}
	return out
}

// A leaf of a config value: a ciphertext ({"secure": "..."}), or a plain string, number or boolean.
type leaf struct {
	path   string
	secure bool
}

// leaves walks v (maps in key order, lists in order) down to its leaves; a ciphertext is one leaf.
func leaves(v any, path string) []leaf {
	switch v := v.(type) {
	case nil:
		return nil
	case map[string]any:
		if s, ok := v["secure"].(string); ok && len(v) == 1 && s != "" {
			return []leaf{{path, true}}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []leaf
		for _, k := range keys {
			out = append(out, leaves(v[k], path+"."+k)...)
		}
		return out
	case []any:
		var out []leaf
		for i, item := range v {
			out = append(out, leaves(item, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	default:
		return []leaf{{path, false}}
	}
}

// secureLeaves returns the paths of the {"secure": "..."} values under v.
func secureLeaves(v any, path string) []string { return pathsOf(leaves(v, path), true) }

// plaintextLeaves returns the paths (homelab:secrets.name, ...) of the plain strings, numbers and
// booleans under v.
func plaintextLeaves(v any, path string) []string { return pathsOf(leaves(v, path), false) }

func pathsOf(ls []leaf, secure bool) []string {
	var out []string
	for _, l := range ls {
		if l.secure == secure {
			out = append(out, l.path)
		}
	}
	return out
}
