package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A --profile (or AWS_PROFILE) that is in neither ~/.aws/config nor ~/.aws/credentials
// is named, with what to do, by every command that takes it: not the SDK's "failed to
// get shared config profile, nope".
func TestMissingProfileSaysWhatToDo(t *testing.T) {
	const want = `AWS profile "nope" is not in ~/.aws/config or ~/.aws/credentials (set AWS_CONFIG_FILE, or run "aws configure --profile nope")`
	const wantEnv = `AWS profile "nope" (from AWS_PROFILE) is not in ~/.aws/config or ~/.aws/credentials (set AWS_CONFIG_FILE, or run "aws configure --profile nope")`
	// HOME holds a config with another profile, so the files exist and the name is
	// what is wrong.
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[profile other]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[keys]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_EC2_METADATA_DISABLED=true"}
	const entitlement = "iam_group:arn:aws:iam::111111111111:group/oncall:member"
	const user = "arn:aws:iam::111111111111:user/carol"
	commands := []struct {
		name string
		args []string
		// doctor reports it as its Credentials check, on stdout.
		line string
	}{
		{"sync", []string{"sync", "--file", filepath.Join(t.TempDir(), "x.c1z")}, ""},
		{"grant", []string{"grant", "--entitlement", entitlement, "--principal-type", "iam_user", "--principal", user}, ""},
		{"revoke", []string{"revoke", "--entitlement", entitlement, "--principal-type", "iam_user", "--principal", user}, ""},
		{"connector", []string{"connector", "-f", filepath.Join(t.TempDir(), "y.c1z")}, ""},
		{"setup aws", []string{"setup", "aws", "--state-dir", t.TempDir()}, ""},
		{"setup aws with a trusted principal", []string{"setup", "aws", "--state-dir", t.TempDir(), "--trusted-principal", "arn:aws:iam::111111111111:role/gatehouse-runtime"}, ""},
		{"doctor", []string{"doctor"}, "FAIL  Credentials         "},
	}
	for _, c := range commands {
		for _, viaEnv := range []bool{false, true} {
			name, args, envs, w := c.name+"/--profile", append([]string(nil), c.args...), env, want
			if viaEnv {
				name, envs, w = c.name+"/AWS_PROFILE", append(append([]string(nil), env...), "AWS_PROFILE=nope"), wantEnv
			} else {
				args = append(args, "--profile", "nope")
			}
			t.Run(name, func(t *testing.T) {
				stdout, stderr, err := runGatehouseEnv(t, envs, args...)
				if code := exitCode(err); code == 0 {
					t.Fatalf("succeeded with a missing profile:\n%s%s", stdout, stderr)
				}
				if c.line != "" {
					if !strings.Contains(stdout, "\n"+c.line+w+"\n") && !strings.HasPrefix(stdout, c.line+w+"\n") {
						t.Errorf("doctor lacks the line %q:\n%s", c.line+w, stdout)
					}
					return
				}
				if !strings.Contains(stderr, "gatehouse: "+w+"\n") {
					t.Errorf("stderr lacks %q:\n%s", "gatehouse: "+w, stderr)
				}
				if strings.Contains(stdout+stderr, "failed to get shared config profile") {
					t.Errorf("the SDK's raw error is shown:\n%s%s", stdout, stderr)
				}
			})
		}
	}
	// With AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, those are the files named
	// and read: "other" is in the file AWS_CONFIG_FILE names, "nope" is not.
	t.Run("AWS_CONFIG_FILE", func(t *testing.T) {
		conf, creds := filepath.Join(home, ".aws", "config"), filepath.Join(home, ".aws", "credentials")
		files := append(append([]string(nil), env...), "HOME="+t.TempDir(), "AWS_CONFIG_FILE="+conf, "AWS_SHARED_CREDENTIALS_FILE="+creds)
		_, stderr, err := runGatehouseEnv(t, files, "sync", "--file", filepath.Join(t.TempDir(), "x.c1z"), "--profile", "nope")
		want := `gatehouse: AWS profile "nope" is not in ` + conf + ` or ` + creds + ` (check AWS_CONFIG_FILE, or run "aws configure --profile nope")` + "\n"
		if err == nil || !strings.Contains(stderr, want) {
			t.Errorf("sync --profile nope: %v, stderr lacks %q:\n%s", err, want, stderr)
		}
		_, stderr, err = runGatehouseEnv(t, files, "setup", "aws", "--state-dir", t.TempDir(), "--trusted-principal", "arn:aws:iam::111111111111:role/gatehouse-runtime", "--profile", "other")
		if err != nil {
			t.Errorf("setup aws --profile other (in AWS_CONFIG_FILE): %v\n%s", err, stderr)
		}
	})
	// Profiles that exist, in either file, are accepted.
	for _, p := range []string{"other", "keys"} {
		t.Run("existing profile "+p, func(t *testing.T) {
			stdout, stderr, err := runGatehouseEnv(t, env, "setup", "aws", "--state-dir", t.TempDir(), "--trusted-principal", "arn:aws:iam::111111111111:role/gatehouse-runtime", "--profile", p)
			if err != nil {
				t.Fatalf("setup aws --profile %s: %v\n%s", p, err, stderr)
			}
			if !strings.Contains(stdout+stderr, "--profile "+p) {
				t.Errorf("the printed commands do not carry --profile %s:\n%s%s", p, stdout, stderr)
			}
		})
	}
}
