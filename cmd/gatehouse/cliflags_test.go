package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/setup"
)

// runGatehouseIn runs the CLI in dir with exactly the environment env.
func runGatehouseIn(t *testing.T, dir string, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(gatehouseBin, args...)
	cmd.Dir, cmd.Env = dir, env
	var out, errOut stringsBuilder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// printedCommand finds the gatehouse command of a step in setup's next steps and returns
// its arguments (setup quotes for a POSIX shell only what needs it; these need nothing).
func printedCommand(t *testing.T, steps, prefix string) []string {
	t.Helper()
	for _, l := range strings.Split(steps, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, prefix) {
			if strings.ContainsAny(l, `'"\$`) {
				t.Fatalf("the printed command needs a shell: %s", l)
			}
			return strings.Fields(l)[1:]
		}
	}
	t.Fatalf("the next steps have no %q:\n%s", prefix, steps)
	return nil
}

// With --endpoint-url, the commands setup prints work as printed; without --out, the
// steps name no file that setup did not write.
func TestSetupNextStepsWorkAsPrinted(t *testing.T) {
	s, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{})
	var orgID string
	s.Do(func(w *awssim.World) { orgID = w.Org.ID })
	dir := t.TempDir()
	env := syncEnv(t, info)
	// The simulator's connector role exists already, with its External ID: setup is
	// given that External ID, as for a role created earlier, and the organization's id
	// (the operator user may not read the organization itself).
	_, steps, err := runGatehouseIn(t, dir, env, "setup", "aws", "--endpoint-url", info.Endpoint, "--orgs", "--org-id", orgID, "--identity-center",
		"--external-id", info.ExternalID, "--state-dir", filepath.Join(dir, "state"))
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, steps)
	}
	for _, name := range []string{setup.FileTrust, setup.FilePermissions, setup.FileConnectorConfig + " (save", setup.FileNextSteps} {
		if strings.Contains(steps, name) {
			t.Errorf("without --out, the next steps name %s, which setup did not write:\n%s", name, steps)
		}
	}
	for _, want := range []string{
		"     a role named GatehouseConnector with connector_role.trust_policy of the JSON printed above as its trust\n",
		"   gatehouse connector takes the same settings; run setup again with --out DIR to get them as\n   connector-config.yaml (its .baton.yaml).\n",
	} {
		if !strings.Contains(steps, want) {
			t.Errorf("the next steps lack %q:\n%s", want, steps)
		}
	}

	doctor := printedCommand(t, steps, "gatehouse doctor ")
	stdout, stderr, err := runGatehouseIn(t, dir, env, doctor...)
	if err != nil || !strings.Contains(stdout, "\nEverything the chosen features need works.\n") {
		t.Errorf("the printed doctor command %v: %v\n%s%s", doctor, err, stdout, stderr)
	}
	sync := printedCommand(t, steps, "gatehouse sync ")
	if _, stderr, err := runGatehouseIn(t, dir, env, sync...); err != nil {
		t.Errorf("the printed sync command %v: %v\n%s", sync, err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "org.c1z")); err != nil {
		t.Errorf("the printed sync command wrote no org.c1z: %v", err)
	}

	// Terraform and CloudFormation printed to stdout: the steps say to save them.
	_, steps, err = runGatehouseIn(t, dir, env, "setup", "aws", "--endpoint-url", info.Endpoint, "--orgs", "--org-id", orgID,
		"--external-id", info.ExternalID, "--state-dir", filepath.Join(dir, "state"), "--format", "cloudformation")
	if err != nil {
		t.Fatal(err)
	}
	want := "   CloudFormation: save the template printed above as gatehouse-cloudformation.yaml, then:\n" +
		"     aws --endpoint-url " + info.Endpoint + " cloudformation activate-organizations-access\n" +
		"     aws --endpoint-url " + info.Endpoint + " cloudformation deploy --stack-name gatehouse --template-file gatehouse-cloudformation.yaml \\\n"
	if !strings.Contains(steps, want) {
		t.Errorf("the cloudformation steps lack %q:\n%s", want, steps)
	}
}

// --profile works as in the AWS CLI, on every command that talks to AWS, and so does
// AWS_PROFILE.
func TestProfileAsInTheAWSCLI(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{})
	home := t.TempDir()
	creds := filepath.Join(home, "credentials")
	if err := os.WriteFile(creds, []byte("[sim]\naws_access_key_id = "+info.AccessKeyID+"\naws_secret_access_key = "+info.SecretAccessKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(home, "config")
	if err := os.WriteFile(conf, []byte("[profile sim]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// No credentials but in the profile.
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + conf, "AWS_SHARED_CREDENTIALS_FILE=" + creds}
	conn := []string{"--endpoint-url", info.Endpoint, "--role-arn", info.RoleARN, "--external-id", info.ExternalID}
	id := idsOf(s)
	dryRun := []string{"--dry-run", "--entitlement", "account:333333333333:" + id.ps["Developer"], "--principal-type", "sso_user", "--principal", id.user["bob"]}

	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"sync --profile", env, append([]string{"sync", "-f", filepath.Join(home, "a.c1z"), "--profile", "sim"}, conn...), "Synced 1 of 1 accounts"},
		{"sync with AWS_PROFILE", append(env, "AWS_PROFILE=sim"), append([]string{"sync", "-f", filepath.Join(home, "b.c1z")}, conn...), "Synced 1 of 1 accounts"},
		{"grant --profile", env, append(append([]string{"grant", "--profile", "sim"}, dryRun...), conn...), "dry run: would create: Developer on account staging (333333333333) for user bob\n"},
		{"revoke --profile", env, append([]string{"revoke", "--profile", "sim", "--dry-run", "--grant", "iam_group:arn:aws:iam::222222222222:group/ci/deployers:member:iam_user:arn:aws:iam::222222222222:user/service/deploy-bot"}, conn...),
			"dry run: would remove: IAM user deploy-bot in IAM group deployers of account 222222222222\n"},
		{"connector --profile", env, append([]string{"connector", "-f", filepath.Join(home, "d.c1z"), "--profile", "sim", "--log-level", "error"}, conn...), ""},
		{"doctor --profile", env, append([]string{"doctor", "--profile", "sim"}, conn...), "PASS  Credentials         from the shared credentials file " + creds + ": arn:aws:iam::111111111111:user/gatehouse-operator\n"},
		{"setup aws --profile", env, []string{"setup", "aws", "--profile", "sim", "--endpoint-url", info.Endpoint, "--state-dir", filepath.Join(home, "state")},
			"gatehouse sync --file org.c1z --profile sim --endpoint-url " + info.Endpoint + " --role-arn"},
	} {
		stdout, stderr, err := runGatehouseEnv(t, c.env, c.args...)
		if c.name != "doctor --profile" && err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, stderr)
			continue
		}
		if !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("%s printed no %q:\n%s%s", c.name, c.want, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "d.c1z")); err != nil {
		t.Errorf("gatehouse connector --profile wrote no file: %v", err)
	}
	// Without the profile there are no credentials.
	if _, _, err := runGatehouseEnv(t, env, append([]string{"sync", "-f", filepath.Join(home, "c.c1z")}, conn...)...); err == nil {
		t.Error("sync without --profile found credentials")
	}
}

// -f is the short form of --file on every command that has --file.
func TestShortFileFlagEverywhere(t *testing.T) {
	for _, c := range []string{"sync", "inspect", "bench", "connector"} {
		stdout, stderr, err := runGatehouse(t, c, "--help")
		if err != nil {
			t.Fatalf("%s --help: %v\n%s", c, err, stderr)
		}
		if !strings.Contains(stdout, "  -f, --file ") {
			t.Errorf("gatehouse %s has no -f for --file:\n%s", c, stdout)
		}
	}
}
