package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// gatehouseBin is the gatehouse binary built once for the tests that run the real CLI.
var gatehouseBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gatehouseBin = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", gatehouseBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startSimCommand runs `gatehouse sim` with the arguments on a free loopback port and
// returns the connection details it prints.
func startSimCommand(t *testing.T, args ...string) awssim.Info {
	t.Helper()
	cmd := exec.Command(gatehouseBin, append([]string{"sim", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatal("gatehouse sim exited without printing its connection details")
		}
		var info awssim.Info
		if err := json.Unmarshal([]byte(line), &info); err != nil {
			t.Fatalf("gatehouse sim printed %q: %v", line, err)
		}
		return info
	case <-time.After(30 * time.Second):
		t.Fatal("gatehouse sim did not print its connection details within 30s")
	}
	return awssim.Info{}
}

// runGatehouse runs the CLI and returns stdout, stderr and the exit error.
func runGatehouse(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(gatehouseBin, args...)
	var out, errOut stringsBuilder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *stringsBuilder) String() string              { return string(s.b) }

// runGatehouseEnv runs the CLI with exactly the environment env.
func runGatehouseEnv(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(gatehouseBin, args...)
	cmd.Env = env
	var out, errOut stringsBuilder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}
