package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/test.sh (what CI runs) stops when it cannot install the AWS CLI, instead of
// running the suite without the AWS CLI check. The machine here is made to look like a
// Debian one where the awscli package cannot be installed; a fake `id` says root so that the install is attempted.
func TestTestScriptFailsWithoutTheAWSCLI(t *testing.T) {
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "apt-get.log")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("apt-get", `echo "apt-get $*" >> `+log+`; [ "$1" = update ] && exit 0; echo "E: Unable to locate package awscli" >&2; exit 100`)
	write("id", `echo 0`)
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "test.sh"))
	cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GATEHOUSE_AWS_CLI=" + filepath.Join(bin, "no-aws")}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("scripts/test.sh succeeded without the AWS CLI:\n%s", out)
	}
	if strings.Contains(string(out), "--- go") {
		t.Errorf("scripts/test.sh went on to run the suite without the AWS CLI:\n%s", out)
	}
	if !strings.Contains(string(out), "scripts/test.sh: apt-get install awscli failed; the suite needs them: awscli for TestAWSCLI") {
		t.Errorf("scripts/test.sh does not say why it stopped:\n%s", out)
	}
	calls, _ := os.ReadFile(log)
	if got := strings.TrimSpace(string(calls)); got != "apt-get update -qq\napt-get install -y -qq awscli" {
		t.Errorf("apt-get was called as:\n%s\nwant update, then install awscli", got)
	}
}
