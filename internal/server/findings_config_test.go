package server_test

import (
	"strings"
	"testing"
	"time"
)

// The findings' thresholds: defaults, from the file and the environment, and values that
// would make every finding unknown or are beyond what AWS allows are refused with why.
func TestFindingsConfig(t *testing.T) {
	cfg, err := loadYAML(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if f := cfg.Findings; f.CredentialReportTolerance != 24*time.Hour || f.MaxSessionDuration != 8*time.Hour || f.RootUseWindow != 720*time.Hour ||
		f.UnusedAfter != 90*24*time.Hour || f.UnusedAccessBudget != 50 || f.UnusedAccessRefresh != 7*24*time.Hour || f.LastAccessTolerance != 30*24*time.Hour {
		t.Fatalf("defaults %+v", f)
	}
	t.Setenv("GATEHOUSE_FINDINGS_ROOT_USE_WINDOW", "168h")
	cfg, err = loadYAML(t, "findings:\n  credential_report_tolerance: 6h\n  max_session_duration: 4h\n")
	if err != nil {
		t.Fatal(err)
	}
	if f := cfg.Findings; f.CredentialReportTolerance != 6*time.Hour || f.MaxSessionDuration != 4*time.Hour || f.RootUseWindow != 168*time.Hour {
		t.Fatalf("from the file and the environment %+v", f)
	}
	t.Setenv("GATEHOUSE_FINDINGS_ROOT_USE_WINDOW", "")
	_, err = loadYAML(t, "findings:\n  credential_report_tolerance: 1h\n  max_session_duration: 13h\n  unused_access_budget: -2\n  unused_access_refresh: 800h\n")
	for _, want := range []string{
		"findings.unused_access_budget -2: must be -1 (off) or more",
		"findings.unused_access_refresh 800h0m0s must be shorter than findings.last_accessed_tolerance 720h0m0s",
		"findings.credential_report_tolerance 1h0m0s: must be at least 4h (IAM reuses a credential report for up to 4 hours",
		"findings.max_session_duration 13h0m0s: must be at most 12h (Identity Center allows sessions of up to 12 hours)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v; want %q", err, want)
		}
	}
}
