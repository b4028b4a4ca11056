package awsfetch

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// testEnv is a simulator serving a world on loopback, and the Config that reaches it as
// Gatehouse would: the operator's key from the standard chain's place (Config.Credentials)
// and the connector role with its External ID.
type testEnv struct {
	sim *awssim.Sim
	url string
	cfg Config
	now time.Time
}

// testNow is the frozen clock of the simulators in these tests. A frozen clock keeps
// what a sync changes in the world (role and key last-used times) the same from one run
// to the next, so runs can be compared exactly; it is the current time so that STS
// session expiries look right to the SDK's credential cache.
var testNow = time.Now().UTC().Truncate(time.Second)

// unpaced turns off client-side pacing for every bucket.
var unpaced = Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}, "scim": {}}

// fixture builds a world from YAML.
func fixture(t *testing.T, yaml string) *awssim.World {
	t.Helper()
	w, err := awssim.ParseFixture([]byte(yaml))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return w
}

// startSim serves w with opts (the clock frozen at testNow unless opts.Now is set) and
// returns the environment.
func startSim(t *testing.T, w *awssim.World, opts awssim.Options) *testEnv {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	s := awssim.New(w, opts)
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	env := &testEnv{sim: s, url: url, now: testNow}
	s.Do(func(w *awssim.World) {
		env.cfg = Config{
			Region:      w.Region,
			EndpointURL: url,
			Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
			RoleARN:     w.Connector.RoleARN,
			ExternalID:  w.Connector.ExternalID,
			Orgs:        w.Org != nil,
			// No client-side pacing (tests that throttle set their own), short backoff
			// and polling: the tests stay fast.
			Quotas:               unpaced,
			MaxBackoff:           50 * time.Millisecond,
			CredentialReportPoll: 5 * time.Millisecond,
		}
		if w.SSO != nil {
			env.cfg.IdentityCenter = true
			env.cfg.IdentityCenterRegion = w.SSO.Region
			if w.Connector.SCIMToken != "" {
				env.cfg.SCIMEndpoint, env.cfg.SCIMToken = url+"/scim/v2", w.Connector.SCIMToken
			}
		}
	})
	return env
}

// fetch runs Fetch and fails the test on error.
func fetch(t *testing.T, cfg Config) (*inventory.Snapshot, *Stats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	snap, stats, err := Fetch(ctx, cfg)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if stats == nil {
		t.Fatal("Fetch returned no stats")
	}
	return snap, stats
}

// comparable returns the snapshot without what differs between runs by design (the
// time it was taken).
func comparable(s *inventory.Snapshot) *inventory.Snapshot {
	c := *s
	c.FetchedAt = time.Time{}
	return &c
}

// assertEqual fails with the first differing lines of the JSON forms.
func assertEqual(t *testing.T, what string, want, got any) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	t.Errorf("%s differs:\n%s", what, jsonDiff(want, got))
}

func jsonDiff(want, got any) string {
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	wl, gl := strings.Split(string(w), "\n"), strings.Split(string(g), "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 12; i++ {
		var a, c string
		if i < len(wl) {
			a = wl[i]
		}
		if i < len(gl) {
			c = gl[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, strings.TrimSpace(a), strings.TrimSpace(c))
			shown++
		}
	}
	if shown == 0 {
		return "(equal JSON; the difference is nil against empty or unexported)"
	}
	return b.String()
}

// account returns the snapshot's account with the id.
func account(t *testing.T, s *inventory.Snapshot, id string) *inventory.Account {
	t.Helper()
	for _, a := range s.Accounts {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no account %s in the snapshot", id)
	return nil
}

// names returns the Name of each element.
func names[T any](list []T, name func(T) string) []string {
	out := []string{}
	for _, x := range list {
		out = append(out, name(x))
	}
	return out
}

// policyDoc is the JSON of the world's policy (AWS-managed or customer) by ARN.
func worldPolicy(w *awssim.World, accountID, arn string) *awssim.Policy {
	return w.Policy(w.Accounts[accountID], arn)
}

// simCalls returns the simulator's call counts per service.
func simCalls(s *awssim.Sim) map[string]int64 {
	out := map[string]int64{}
	for _, c := range s.Counters().Snapshot() {
		out[c.Service] += c.Calls
	}
	return out
}

// statsCalls returns the fetch's call counts per service.
func statsCalls(s *Stats) map[string]int64 {
	out := map[string]int64{}
	for _, c := range s.Services {
		out[c.Service] = c.Calls
	}
	return out
}
