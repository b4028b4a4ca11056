package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoKeepsItsDataDir runs `gatehouse demo --data-dir DIR` twice, the second time within
// the story's lease, as a newcomer who stops and restarts it does: the second run starts
// (the story's request of the first run goes on), the data source keeps its External ID and
// its id, the role the new simulator's customer creates names that External ID, and the
// unchanged Payroll export is not imported again.
func TestDemoKeepsItsDataDir(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "demo-data")
	type line struct {
		URL               string `json:"url"`
		StoryRequest      string `json:"story_request"`
		SampleApplication string `json:"sample_application"`
		SampleDataSource  string `json:"sample_datasource"`
	}
	run := func() (line, string) {
		t.Helper()
		cmd := exec.Command(gatehouseBin, "demo", "--listen", "127.0.0.1:0", "--data-dir", dataDir)
		cmd.Env = noAWSEnv(t)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stderr := &lockedBuffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = cmd.Process.Signal(syscall.SIGINT)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("gatehouse demo after Ctrl-C: %v\n%s", err, stderr.String())
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Errorf("gatehouse demo did not stop within 30 s of Ctrl-C")
			}
		}()
		lines := make(chan string, 2)
		go func() {
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		var got []string
		for len(got) < 2 {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("gatehouse demo exited after %d lines; stderr:\n%s", len(got), stderr.String())
				}
				got = append(got, l)
			case <-time.After(3 * time.Minute):
				t.Fatalf("gatehouse demo printed %d lines in 3 minutes; stderr:\n%s", len(got), stderr.String())
			}
		}
		var l line
		if err := json.Unmarshal([]byte(got[1]), &l); err != nil {
			t.Fatalf("URL line %q: %v", got[1], err)
		}
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "Press Ctrl-C to stop.") && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		c := demoSignIn(t, l.URL, "alice")
		var ds struct {
			ExternalID  string `json:"external_id"`
			LastState   string `json:"last_state"`
			LastSummary struct {
				Fetched, Unchanged int
			} `json:"last_summary"`
		}
		getJSON(t, c, l.URL+"/api/v1/datasources/"+l.SampleDataSource, &ds)
		var runs struct {
			Items []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"items"`
		}
		getJSON(t, c, l.URL+"/api/v1/applications/"+l.SampleApplication+"/runs", &runs)
		if ds.LastState != "succeeded" || ds.LastSummary.Unchanged != 1 || ds.LastSummary.Fetched != 0 || len(runs.Items) != 1 || runs.Items[0].State != "applied" {
			t.Fatalf("data source %+v, runs %+v\n%s", ds, runs.Items, stderr.String())
		}
		if want := "External ID " + ds.ExternalID + "): applied, 11 grants"; !strings.Contains(stderr.String(), want) {
			t.Fatalf("stderr lacks %q:\n%s", want, stderr.String())
		}
		return l, ds.ExternalID + " " + runs.Items[0].ID + "\n" + stderr.String()
	}
	first, out1 := run()
	second, out2 := run()
	if first.SampleApplication != second.SampleApplication || first.SampleDataSource != second.SampleDataSource || first.StoryRequest != second.StoryRequest {
		t.Fatalf("the second run's line %+v, the first's %+v", second, first)
	}
	if id1, id2 := strings.SplitN(out1, "\n", 2)[0], strings.SplitN(out2, "\n", 2)[0]; id1 != id2 {
		t.Fatalf("External ID and run after the restart: %s, before: %s", id2, id1)
	}
	if want := "Story: bob@example.com's request " + first.StoryRequest + " for Billing on management ("; !strings.Contains(out2, want) ||
		!strings.Contains(out2, "made by an earlier run on this data directory, is still active") {
		t.Fatalf("the second run's stderr lacks %q:\n%s", want, out2)
	}
}
