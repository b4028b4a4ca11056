package syncrun

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
)

func TestBenchReportCallsFloorAndTargets(t *testing.T) {
	stats := &awsfetch.Stats{
		Services: []awsfetch.ServiceStats{{Service: "iam", Calls: 30}, {Service: "sso", Calls: 40, Throttles: 1}},
		Operations: []awsfetch.OperationStats{
			{Service: "iam", Operation: "GenerateCredentialReport", Calls: 10},
			{Service: "iam", Operation: "GetAccountAuthorizationDetails", Calls: 20},
			{Service: "sso", Operation: "ListAccountAssignments", Calls: 40, Throttles: 1},
		},
		Buckets: []awsfetch.BucketStats{
			{Bucket: "iam", Scope: "111111111111", Calls: 20, Rate: 14},
			{Bucket: "iam", Scope: "222222222222", Calls: 10, Rate: 14},
			{Bucket: "identitycenter", Calls: 50, Rate: 19},
		},
		Assignments: awsfetch.AssignmentChoice{Strategy: "ListAccountAssignments"},
	}
	counters := []awssim.OpCount{
		{Service: "iam", Operation: "GetAccountAuthorizationDetails", Calls: 20},
		{Service: "iam", Operation: "GenerateCredentialReport", Calls: 10},
		{Service: "sso", Operation: "ListAccountAssignments", Calls: 41, Throttled: 1},
	}
	var r BenchReport
	r.fillCalls(stats, counters)
	if r.Calls.Fetch != 70 || r.Calls.Simulator != 71 || r.Calls.Agree {
		t.Errorf("calls = %+v; want 70 against 71, disagreeing", r.Calls)
	}
	if o := r.Calls.Operations; len(o) != 3 || o[0].Operation != "GenerateCredentialReport" || o[2].Fetch != 40 || o[2].Simulator != 41 {
		t.Errorf("operations = %+v", o)
	}
	if len(r.Calls.Services) != 2 || r.Calls.Services[1].Service != "sso" || r.Calls.Services[1].Simulator != 41 || r.Calls.Services[1].SimulatorThrottled != 1 {
		t.Errorf("services = %+v", r.Calls.Services)
	}

	// The floor is computed at the simulator's quotas, not at the pace the fetch used.
	r.fillFloor(stats, awssim.Quotas{"iam": {Rate: 10}, "identitycenter": {Rate: 20}})
	if r.Floor.Seconds != 2.5 || r.Floor.Bucket != "identitycenter" {
		t.Errorf("floor %vs (%s), want 2.5s (identitycenter)", r.Floor.Seconds, r.Floor.Bucket)
	}
	if b := r.Floor.Buckets; len(b) != 3 || b[0].Bucket != "identitycenter" || b[1].Scope != "111111111111" || b[1].Seconds != 2 || b[2].Seconds != 1 {
		t.Errorf("buckets = %+v", b)
	}
	if floor, _ := stats.FloorAt(map[string]float64{"iam": 10, "identitycenter": 20}); floor != 2500*time.Millisecond {
		t.Errorf("Stats.FloorAt = %s, the report says %vs", floor, r.Floor.Seconds)
	}

	r.Wall.Seconds = 3
	r.Ratio = r.Wall.Seconds / r.Floor.Seconds
	r.Memory.PeakRSS = 499_999_999
	r.fillTargets()
	for _, tg := range r.Targets {
		if !tg.OK {
			t.Errorf("target %+v missed", tg)
		}
	}
	if r.OK {
		t.Error("report OK although the call counts disagree")
	}

	r.Memory.PeakRSS = 500_000_000
	r.Ratio = 1.26
	r.fillTargets()
	if r.Targets[0].OK != true || r.Targets[1].OK || r.Targets[2].OK {
		t.Errorf("targets = %+v; want the wall and memory targets missed", r.Targets)
	}
	var text strings.Builder
	r.WriteText(&text)
	if !strings.Contains(text.String(), "THE COUNTS DIFFER") || strings.Count(text.String(), "MISSED") != 2 {
		t.Errorf("text report:\n%s", text.String())
	}
}

// With --sync-secrets the report counts the IAM calls made per user or key and holds them
// to 1.1 per IAM user (issue 9: about one ListAccessKeys per user plus the bulk calls).
func TestBenchReportPerUserIAMCalls(t *testing.T) {
	stats := &awsfetch.Stats{Operations: []awsfetch.OperationStats{
		{Service: "iam", Operation: "GetAccountAuthorizationDetails", Calls: 10},
		{Service: "iam", Operation: "ListAccessKeys", Calls: 5000},
		{Service: "iam", Operation: "GetAccessKeyLastUsed", Calls: 2600},
		{Service: "iam", Operation: "ListMFADevices", Calls: 400},
	}}
	r := BenchReport{SyncSecrets: true, Organization: BenchOrganization{IAMUsers: 5000}}
	r.fillCalls(stats, nil)
	if r.Calls.PerUserIAM != 8000 {
		t.Fatalf("per-user IAM calls = %d, want 8000 (bulk calls left out)", r.Calls.PerUserIAM)
	}
	r.fillTargets()
	got := r.Targets[len(r.Targets)-1]
	if got.Name != "per-user IAM calls / IAM users" || got.Value != 1.6 || got.OK {
		t.Errorf("target = %+v, want 1.6 missed", got)
	}

	stats.Operations[2].Calls = 0 // the credential report covered every key
	r = BenchReport{SyncSecrets: true, Organization: BenchOrganization{IAMUsers: 5000}}
	r.fillCalls(stats, nil)
	r.fillTargets()
	if got := r.Targets[len(r.Targets)-1]; got.Value != 1.08 || !got.OK {
		t.Errorf("target = %+v, want 1.08 held", got)
	}
	var out strings.Builder
	r.WriteText(&out)
	if !strings.Contains(out.String(), "per-user IAM calls      5400  GetAccessKeyLastUsed 0  ListAccessKeys 5000  ListMFADevices 400") {
		t.Errorf("text report:\n%s", out.String())
	}

	r = BenchReport{Organization: BenchOrganization{IAMUsers: 5000}}
	r.fillTargets()
	if len(r.Targets) != 3 {
		t.Errorf("without --sync-secrets there are %d targets, want 3", len(r.Targets))
	}
}
