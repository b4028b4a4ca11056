package awsfetch

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// A job that is done by the end of its account's read is collected in the sync that
// started it, in the same role session (AWS documents a job id as usable "by the same role
// within a session"); one still running keeps its started read for the next sync. With
// IAM's jobs done at once, one sync starts the budget's jobs and collects every one of
// them: 3 starts and 3 looks, the services exactly as the fixture says.
func TestLastAccessCollectedInTheSyncThatStartedIt(t *testing.T) {
	const yaml = `
now: 2026-03-01T00:00:00Z
region: us-east-1
management_account: "111111111111"
accounts:
  - id: "111111111111"
    name: management
    iam:
      users:
        - name: active
          created: 2025-01-01T00:00:00Z
          inline_policies:
            work: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ["s3:GetObject", "ec2:DescribeInstances"], Resource: "*"}]}
          services_last_accessed: {s3: 2026-02-20T00:00:00Z}
      roles:
        - name: app
          created: 2025-01-01T00:00:00Z
          trust: {service: [lambda.amazonaws.com]}
          inline_policies:
            app: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "sqs:SendMessage", Resource: "*"}]}
`
	for _, c := range []struct {
		name      string
		delay     time.Duration
		wantKinds string
	}{
		{"jobs done at once", 0, "completed completed completed"},
		{"jobs still running", time.Hour, "started started started"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := startSim(t, fixture(t, yaml), awssim.Options{AccessJobDelay: c.delay})
			cfg := env.cfg
			cfg.Orgs = false
			cfg.LastAccess = &LastAccessPlan{Budget: 3, Now: func() time.Time { return env.now }}
			env.sim.Counters().Reset()
			snap, _ := fetch(t, cfg)
			calls := map[string]int64{}
			for _, oc := range env.sim.Counters().Snapshot() {
				calls[oc.Operation] += oc.Calls
			}
			if calls["GenerateServiceLastAccessedDetails"] != 3 || calls["GetServiceLastAccessedDetails"] != 3 {
				t.Fatalf("calls: %d starts, %d gets; want 3 and 3", calls["GenerateServiceLastAccessedDetails"], calls["GetServiceLastAccessedDetails"])
			}
			var reads []*inventory.LastAccessRead
			for _, a := range snap.Accounts {
				if a.IAM != nil {
					reads = append(reads, a.IAM.LastAccess...)
				}
			}
			sort.Slice(reads, func(i, j int) bool { return reads[i].EntityARN < reads[j].EntityARN })
			kinds := ""
			for i, r := range reads {
				if i > 0 {
					kinds += " "
				}
				kinds += r.Kind
			}
			if kinds != c.wantKinds {
				t.Fatalf("reads %q, want %q: %+v", kinds, c.wantKinds, reads)
			}
			for _, r := range reads {
				if r.Kind == lastAccessStarted && r.JobID == "" {
					t.Errorf("%s: a started read without its job", r.EntityARN)
				}
			}
			if c.delay != 0 {
				return
			}
			// The role used nothing; the user used s3 and not ec2. (The third job is the
			// simulator's connector role's: the budget takes entities by ARN.)
			used := map[string]string{}
			for _, r := range reads {
				if strings.HasSuffix(r.EntityARN, "/GatehouseConnector") {
					continue
				}
				for _, s := range r.Services {
					v := "never"
					if !s.LastAuthenticated.IsZero() {
						v = s.LastAuthenticated.Format(time.RFC3339)
					}
					used[r.EntityARN+" "+s.Namespace] = v
				}
			}
			want := map[string]string{
				"arn:aws:iam::111111111111:role/app sqs":    "never",
				"arn:aws:iam::111111111111:user/active ec2": "never",
				"arn:aws:iam::111111111111:user/active s3":  "2026-02-20T00:00:00Z",
			}
			if len(used) != len(want) {
				t.Fatalf("services %v, want %v", used, want)
			}
			for k, v := range want {
				if used[k] != v {
					t.Errorf("%s: %q, want %q", k, used[k], v)
				}
			}
		})
	}
}
