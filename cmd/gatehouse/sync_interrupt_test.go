package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// Interrupting a sync (Ctrl-C) leaves the previous file at the target path untouched and
// no temporary file behind.
func TestSyncInterruptedKeepsThePreviousFile(t *testing.T) {
	// Every call takes 200ms, so the sync is still fetching when it is interrupted.
	_, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{Latency: 200 * time.Millisecond})
	dir := t.TempDir()
	file := filepath.Join(dir, "org.c1z")
	previous := []byte("the previous sync's file")
	if err := os.WriteFile(file, previous, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gatehouseBin, "sync", "--file", file, "--endpoint-url", info.Endpoint, "--region", info.Region,
		"--role-arn", info.RoleARN, "--external-id", info.ExternalID, "--orgs", "--identity-center")
	cmd.Env = syncEnv(t, info)
	var stderr stringsBuilder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if err == nil {
		t.Fatal("an interrupted sync exited 0")
	}
	if want := "gatehouse: sync interrupted; " + file + " was left as it was\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
	got, err := os.ReadFile(file)
	if err != nil || string(got) != string(previous) {
		t.Errorf("target file after interrupt = %q, %v; want the previous content", got, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "org.c1z" {
			t.Errorf("left behind in the target directory: %s", e.Name())
		}
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}
