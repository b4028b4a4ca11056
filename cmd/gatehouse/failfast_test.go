package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// Every command that talks to AWS says at once, and with the real cause, that the
// endpoint cannot be reached: not after minutes of retries inside retries, and not as
// "no usable credentials" when credentials were set.
func TestUnreachableEndpointFailsFast(t *testing.T) {
	// A port that refuses connections. Not a port listened on and closed: other tests'
	// simulators listen on ephemeral ports and may take it in the meantime. Port 1 is
	// outside the ephemeral range; the test checks that it refuses.
	const closed = "127.0.0.1:1"
	if c, err := net.Dial("tcp", closed); err == nil {
		c.Close()
		t.Fatalf("something listens on %s", closed)
	}

	// A host name that does not resolve; the expected words are whatever this machine's
	// resolver says about it ("no such host" where DNS answers).
	const badHost = "nonexistent.invalid"
	var dnsErr *net.DNSError
	_, lerr := net.LookupHost(badHost)
	if !errors.As(lerr, &dnsErr) {
		t.Fatalf("looking up %s: %v, want a DNS error", badHost, lerr)
	}
	dnsWant := dnsErr.Err + " " + badHost
	if dnsErr.IsNotFound {
		dnsWant = "no such host " + badHost
	}

	// Something that answers HTTP, but not like AWS: a web server's error page, with a
	// status the SDK retries (503). It counts the attempts.
	var attempts atomic.Int64
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><head><title>503 Service Unavailable</title></head><body>upstream down</body></html>\n"))
	}))
	defer web.Close()

	endpoints := []struct {
		name, url, want string
	}{
		{"closed port", "http://" + closed, "cannot reach AWS STS: connection refused to " + closed + " (nothing listens there), calling http://" + closed + "/"},
		{"unknown host", "http://" + badHost + ":4566", "cannot reach AWS STS: " + dnsWant + ", calling http://" + badHost + ":4566/"},
		{"not AWS", web.URL + "/wrong/path", "cannot reach AWS STS: HTTP 503 with a body that is not an AWS API response (not an AWS endpoint?), calling " + web.URL + "/wrong/path"},
		{"https to an http port", "https://" + strings.TrimPrefix(web.URL, "http://"), "cannot reach AWS STS: http: server gave HTTP response to HTTPS client, calling https://" + strings.TrimPrefix(web.URL, "http://") + "/"},
	}
	const role = "arn:aws:iam::111111111111:role/GatehouseConnector"
	group := "iam_group:arn:aws:iam::111111111111:group/oncall:member"
	user := "arn:aws:iam::111111111111:user/carol"
	commands := []struct {
		name string
		args func(endpoint, dir string) []string
		// out picks the stream that carries the message.
		stdout bool
	}{
		{"sync", func(e, dir string) []string {
			return []string{"sync", "--file", filepath.Join(dir, "org.c1z"), "--endpoint-url", e}
		}, false},
		{"sync with a role", func(e, dir string) []string {
			return []string{"sync", "--file", filepath.Join(dir, "org.c1z"), "--endpoint-url", e, "--role-arn", role, "--external-id", "x", "--orgs", "--identity-center"}
		}, false},
		{"grant", func(e, dir string) []string {
			return []string{"grant", "--entitlement", group, "--principal-type", "iam_user", "--principal", user, "--endpoint-url", e, "--role-arn", role, "--external-id", "x"}
		}, false},
		{"revoke", func(e, dir string) []string {
			return []string{"revoke", "--entitlement", group, "--principal-type", "iam_user", "--principal", user, "--endpoint-url", e}
		}, false},
		{"doctor", func(e, dir string) []string {
			return []string{"doctor", "--endpoint-url", e, "--role-arn", role, "--external-id", "x", "--orgs"}
		}, true},
		{"connector", func(e, dir string) []string {
			return []string{"connector", "-f", filepath.Join(dir, "org.c1z"), "--endpoint-url", e, "--role-arn", role, "--external-id", "x"}
		}, false},
	}
	env := func(t *testing.T) []string {
		return append(noAWSEnv(t), "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	}
	for _, ep := range endpoints {
		for _, c := range commands {
			t.Run(ep.name+"/"+c.name, func(t *testing.T) {
				attempts.Store(0)
				started := time.Now()
				stdout, stderr, err := runGatehouseEnv(t, env(t), c.args(ep.url, t.TempDir())...)
				took := time.Since(started)
				if err == nil {
					t.Fatalf("succeeded against %s:\n%s%s", ep.url, stdout, stderr)
				}
				out := stderr
				if c.stdout {
					out = stdout
				}
				if !strings.Contains(out, ep.want) {
					t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", ep.want, stdout, stderr)
				}
				if strings.Contains(out, "no usable AWS credentials") || strings.Contains(out, "were refused") {
					t.Errorf("the credentials are blamed for an unreachable endpoint:\n%s", out)
				}
				// 30 s is the promise; the bounded retry (3 attempts within 5 s) stays well
				// below it even on a busy machine.
				if took > 15*time.Second {
					t.Errorf("took %s to fail, want well under 30 s", took.Round(time.Millisecond))
				}
				if n := attempts.Load(); n > 3*2 {
					// Doctor asks twice (its own check, then the connection), each at most 3 times.
					t.Errorf("the server was called %d times", n)
				}
			})
		}
	}
}

// What the AWS SDK warns about reaches stderr through Gatehouse's log, never as the SDK's
// own raw "SDK 2006/01/02 15:04:05 WARN ..." lines. The simulator is served behind a
// handler that sends a Date header the SDK cannot parse: the SDK warns on every response.
func TestSyncSDKWarningsGoThroughTheLog(t *testing.T) {
	s, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{})
	h := s.Handler()
	badDate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "not a date")
		h.ServeHTTP(w, r)
	}))
	defer badDate.Close()
	info.Endpoint = badDate.URL

	_, stderr, err := runSync(t, info, filepath.Join(t.TempDir(), "org.c1z"), "--orgs", "--identity-center", "--allow-partial")
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, stderr)
	}
	raw := regexp.MustCompile(`(?m)^SDK \d{4}/\d\d/\d\d `)
	if m := raw.FindAllString(stderr, -1); len(m) > 0 {
		t.Errorf("stderr has %d raw AWS SDK lines:\n%s", len(m), stderr)
	}
	logged := 0
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "\tWARN\taws-sdk\tfailed to parse response Date header value, got unable to parse time string, parse errors: ") {
			logged++
		}
	}
	if logged == 0 {
		t.Errorf("the SDK's warning is not in the log on stderr:\n%s", stderr)
	}
}
