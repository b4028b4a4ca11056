package findings

import (
	"fmt"
	"strings"
	"time"
)

// The root user (1.4 to 1.7) and the password policy (1.8, 1.9): one finding per account,
// whose resource is the account id.

const (
	fixReadAccount = "Make the account readable again (its skip reason on the Syncs page says how) and sync again."
	fixReport      = "Allow iam:GenerateCredentialReport and iam:GetCredentialReport to Gatehouse's role in the account (gatehouse setup aws generates them) and sync again; IAM regenerates the report at most every 4 hours."
	fixNewData     = "Sync again with this version of Gatehouse: the data is read by every sync since findings were added."
	fixPolicyRead  = "Allow iam:GetAccountPasswordPolicy to Gatehouse's role in the account (gatehouse setup aws generates it) and sync again."
	fixOldReport   = "Sync again: IAM makes a new report when asked for one more than 4 hours old; if the report stays old, check that the sync may call iam:GenerateCredentialReport, or raise findings.credential_report_tolerance."
)

// readFix is how to get an account read again.
func (a *account) readFix() string {
	if a.staleFix != "" {
		return a.staleFix
	}
	return fixReadAccount
}

// reportEvidence is the root user's columns of the credential report with its time.
func (a *account) rootReportEvidence() map[string]any {
	ev := pick(a.p, "root_mfa_active", "root_password_last_used", "root_active_access_keys", "root_access_keys")
	if a.reportAt != nil {
		ev["credential_report_generated_at"] = fmtTime(*a.reportAt)
	}
	return ev
}

func (e *eval) rootControls(a *account) {
	if a.inactive {
		return
	}
	id := a.id
	if a.notRead != "" {
		for _, c := range []Control{RootAccessKeys, RootMFA, RootHardwareMFA, RootUse} {
			e.unknown(c, id, id, a.notRead, a.readFix(), nil)
		}
		return
	}

	// 1.4: GetAccountSummary's AccountAccessKeysPresent, read with the sync, is the
	// benchmark's command-line audit; without it, the report's access_key_N_active columns
	// (the console audit), if the report is fresh enough.
	ev := a.rootReportEvidence()
	if present, ok := boolOf(a.p, "account_access_keys_present"); ok {
		ev["account_access_keys_present"] = present
		ev["source"] = "GetAccountSummary"
		if present {
			e.fail(RootAccessKeys, id, id, "the root user has access keys (GetAccountSummary AccountAccessKeysPresent = 1)", ev)
		} else {
			e.pass(RootAccessKeys, id, id, "the root user has no access key (GetAccountSummary AccountAccessKeysPresent = 0)", ev)
		}
	} else if a.reportProblem != "" {
		e.unknown(RootAccessKeys, id, id, a.reportProblem+"; GetAccountSummary was not read either", a.reportFix, ev)
	} else {
		ev["source"] = "credential_report"
		if n, _ := num(a.p, "root_active_access_keys"); n > 0 {
			e.fail(RootAccessKeys, id, id, fmt.Sprintf("the credential report shows %d active root access key(s)", int(n)), ev)
		} else {
			e.pass(RootAccessKeys, id, id, "the credential report shows no active root access key", ev)
		}
	}

	// 1.5: AccountMFAEnabled (command line), else the report's mfa_active (console).
	mfaKnown, mfa := false, false
	ev = a.rootReportEvidence()
	if v, ok := boolOf(a.p, "account_mfa_enabled"); ok {
		mfaKnown, mfa = true, v
		ev["account_mfa_enabled"], ev["source"] = v, "GetAccountSummary"
		if v {
			e.pass(RootMFA, id, id, "the root user has MFA (GetAccountSummary AccountMFAEnabled = 1)", ev)
		} else {
			e.fail(RootMFA, id, id, "the root user has no MFA device (GetAccountSummary AccountMFAEnabled = 0)", ev)
		}
	} else if a.reportProblem != "" {
		e.unknown(RootMFA, id, id, a.reportProblem+"; GetAccountSummary was not read either", a.reportFix, ev)
	} else if v, ok := boolOf(a.p, "root_mfa_active"); ok {
		mfaKnown, mfa = true, v
		ev["source"] = "credential_report"
		if v {
			e.pass(RootMFA, id, id, "the credential report shows mfa_active = true for <root_account>", ev)
		} else {
			e.fail(RootMFA, id, id, "the credential report shows mfa_active = false for <root_account>", ev)
		}
	} else {
		mfaKnown = false
		e.unknown(RootMFA, id, id, "the credential report has no <root_account> row", fixReport, ev)
	}

	// 1.6: MFA enabled, and no virtual MFA device assigned to the root user
	// (ListVirtualMFADevices names the root by its ARN, arn:aws:iam::ACCOUNT:root).
	ev = pick(a.p, "account_mfa_enabled", "root_mfa_active", "root_virtual_mfa_count", "root_virtual_mfa_devices")
	count, counted := num(a.p, "root_virtual_mfa_count")
	switch {
	case !mfaKnown:
		e.unknown(RootHardwareMFA, id, id, "whether the root user has MFA at all is unknown (see control 1.5)", fixReport, ev)
	case !mfa:
		e.fail(RootHardwareMFA, id, id, "the root user has no MFA device at all", ev)
	case !counted:
		e.unknown(RootHardwareMFA, id, id, "the root user's virtual MFA devices were not read (ListVirtualMFADevices) by this sync", fixNewData, ev)
	case count > 0:
		e.fail(RootHardwareMFA, id, id, "the root user's MFA is a virtual device: "+strings.Join(strs(a.p, "root_virtual_mfa_devices"), ", "), ev)
	default:
		e.pass(RootHardwareMFA, id, id, "the root user has MFA and no virtual MFA device: its device is hardware (a TOTP token or a FIDO key)", ev)
	}

	// 1.7: the latest of password_last_used, access_key_1_last_used_date and
	// access_key_2_last_used_date of <root_account>, all three (not the first one set).
	ev = a.rootReportEvidence()
	if a.reportProblem != "" {
		e.unknown(RootUse, id, id, a.reportProblem, a.reportFix, ev)
		return
	}
	var last *time.Time
	what := ""
	if t := timeOf(a.p, "root_password_last_used"); t != nil {
		last, what = t, "password"
	}
	for _, k := range objects(a.p, "root_access_keys") {
		if t := timeOf(k, "last_used"); t != nil && (last == nil || t.After(*last)) {
			n, _ := num(k, "slot")
			last, what = t, fmt.Sprintf("access key %d", int(n))
		}
	}
	ev["window"] = e.opts.RootUseWindow.String()
	switch {
	case last == nil:
		e.pass(RootUse, id, id, "the credential report shows no use of the root user's password or access keys", ev)
	case e.in.At.Sub(*last) < e.opts.RootUseWindow:
		ev["last_used"], ev["last_used_by"] = fmtTime(*last), what
		e.fail(RootUse, id, id, fmt.Sprintf("the root user was used at %s (%s), %d days before the sync; the window is %d days",
			fmtTime(*last), what, days(e.in.At.Sub(*last)), days(e.opts.RootUseWindow)), ev)
	default:
		ev["last_used"], ev["last_used_by"] = fmtTime(*last), what
		e.pass(RootUse, id, id, fmt.Sprintf("the root user was last used at %s (%s), %d days before the sync", fmtTime(*last), what,
			days(e.in.At.Sub(*last))), ev)
	}
}

// passwordPolicy judges 1.8 and 1.9 from GetAccountPasswordPolicy: an account without a
// policy fails both (IAM's default does not require 14 characters or prevent reuse).
func (e *eval) passwordPolicy(a *account) {
	if a.inactive {
		return
	}
	id := a.id
	if a.notRead != "" {
		e.unknown(PasswordLength, id, id, a.notRead, a.readFix(), nil)
		e.unknown(PasswordReuse, id, id, a.notRead, a.readFix(), nil)
		return
	}
	ev := pick(a.p, "password_policy_state", "password_policy", "password_policy_error")
	ev["source"] = "GetAccountPasswordPolicy"
	switch str(a.p, "password_policy_state") {
	case "unread":
		reason := "the password policy could not be read: " + str(a.p, "password_policy_error")
		e.unknown(PasswordLength, id, id, reason, fixPolicyRead, ev)
		e.unknown(PasswordReuse, id, id, reason, fixPolicyRead, ev)
	case "none":
		e.fail(PasswordLength, id, id, "the account has no password policy (GetAccountPasswordPolicy: NoSuchEntity)", ev)
		e.fail(PasswordReuse, id, id, "the account has no password policy (GetAccountPasswordPolicy: NoSuchEntity)", ev)
	case "set":
		pp, _ := a.p["password_policy"].(map[string]any)
		n, _ := num(pp, "minimum_password_length")
		if int(n) >= minLength {
			e.pass(PasswordLength, id, id, fmt.Sprintf("MinimumPasswordLength is %d", int(n)), ev)
		} else {
			e.fail(PasswordLength, id, id, fmt.Sprintf("MinimumPasswordLength is %d; 14 or more is required", int(n)), ev)
		}
		r, ok := num(pp, "password_reuse_prevention")
		switch {
		case !ok:
			e.fail(PasswordReuse, id, id, "PasswordReusePrevention is not set; 24 is required", ev)
		case int(r) >= reuseCount:
			e.pass(PasswordReuse, id, id, fmt.Sprintf("PasswordReusePrevention is %d", int(r)), ev)
		default:
			e.fail(PasswordReuse, id, id, fmt.Sprintf("PasswordReusePrevention is %d; 24 is required", int(r)), ev)
		}
	default:
		reason := "the password policy was not read by sync " + e.in.SyncID
		e.unknown(PasswordLength, id, id, reason, fixNewData, ev)
		e.unknown(PasswordReuse, id, id, reason, fixNewData, ev)
	}
}

// accountSynced judges gh.account_synced: an ACTIVE account the sync could not read fails.
func (e *eval) accountSynced(a *account) {
	id := a.id
	ev := pick(a.p, "status", "synced", "skip_reason")
	if a.lastReadAt != nil {
		ev["last_read_at"] = fmtTime(*a.lastReadAt)
	}
	if a.lastReadSyncID != "" {
		ev["last_read_sync"] = a.lastReadSyncID
	}
	switch {
	case a.inactive:
		e.pass(AccountSynced, id, id, "the account is "+str(a.p, "status")+": it refuses every call and holds no usable access", ev)
	case a.notRead != "":
		ev["stale_reason"], ev["stale_fix"] = a.staleReason, a.staleFix
		e.add(AccountSynced, id, id, "fail", a.notRead, ev, a.readFix())
	default:
		e.pass(AccountSynced, id, id, "the account was read by sync "+e.in.SyncID, ev)
	}
}
