package findings

import (
	"fmt"
	"sort"
	"strings"
)

// gh.unused_services: for every IAM user and role (permission-set roles included,
// service-linked roles not: AWS owns their permissions), the services its permissions
// policies grant that it has not used in Options.UnusedAfter, from IAM's service last
// accessed details (GenerateServiceLastAccessedDetails), which the syncs read on a budget
// and keep in the store (store.LastAccess). The resource is the entity's ARN.
//
// Unknown, never pass, while the details are missing: not read yet (the budget reaches
// every entity over a few syncs), a job started and not collected, a read that failed
// (denied, throttled: kept for the next sync, never taken for "unused"), or a result
// older than Options.LastAccessTolerance.

// fixLastAccessCalls is how to let Gatehouse read the details.
const fixLastAccessCalls = "Allow iam:GenerateServiceLastAccessedDetails and iam:GetServiceLastAccessedDetails to Gatehouse's roles (gatehouse setup aws generates them) and sync again."

// fixLastAccessWait: the details come with the next syncs.
const fixLastAccessWait = "Nothing to change in AWS: the next syncs read it (each sync starts at most findings.unused_access_budget jobs per account and collects them in the following sync)."

func (e *eval) unusedServices(a *account) {
	if a.inactive {
		return
	}
	c := UnusedServices
	entities := append(append([]res(nil), a.users...), a.roles...)
	sort.Slice(entities, func(i, j int) bool { return entities[i].ID < entities[j].ID })
	for _, x := range entities {
		if strings.HasPrefix(str(x.p, "path"), "/aws-service-role/") {
			continue
		}
		arn := x.ID
		if a.notRead != "" {
			e.unknown(c, a.id, arn, a.notRead, a.readFix(), nil)
			continue
		}
		l, ok := e.in.LastAccess[arn]
		ev := map[string]any{}
		if ok && l.JobID != "" && l.JobStartedAt != nil {
			ev["job_started_at"] = fmtTime(*l.JobStartedAt)
		}
		if ok && l.Error != "" {
			ev["last_error"] = l.Error
		}
		if !ok || l.CompletedAt == nil {
			switch {
			case ok && l.Error != "":
				e.unknown(c, a.id, arn, "the service last accessed details of "+arn+" could not be read: "+l.Error, fixLastAccessCalls, ev)
			case ok && l.JobID != "":
				e.unknown(c, a.id, arn, "the service last accessed details of "+arn+" are being generated (job started at "+
					fmtTime(*l.JobStartedAt)+"); the next sync collects them", fixLastAccessWait, ev)
			default:
				e.unknown(c, a.id, arn, "the service last accessed details of "+arn+" have not been read yet", fixLastAccessWait, ev)
			}
			continue
		}
		done := *l.CompletedAt
		ev["job_completed_at"] = fmtTime(done)
		if age := e.in.At.Sub(done); age > e.opts.LastAccessTolerance {
			reason := fmt.Sprintf("the service last accessed details of %s were generated at %s, %s before the sync read AWS; the tolerance is %s",
				arn, fmtTime(done), roundDuration(age), e.opts.LastAccessTolerance)
			fix := fixLastAccessWait
			if l.Error != "" {
				reason += "; the last read failed: " + l.Error
				fix = fixLastAccessCalls
			}
			e.unknown(c, a.id, arn, reason, fix, ev)
			continue
		}
		created := timeOf(x.p, "created")
		var unused, used []any
		var names []string
		young := 0
		for _, s := range l.Services {
			item := map[string]any{"namespace": s.Namespace, "name": s.Name}
			if s.LastAuthenticated != nil {
				item["last_authenticated"] = fmtTime(*s.LastAuthenticated)
			}
			switch {
			case s.LastAuthenticated != nil && e.in.At.Sub(*s.LastAuthenticated) < e.opts.UnusedAfter:
				used = append(used, item)
			case s.LastAuthenticated == nil && created != nil && e.in.At.Sub(*created) < e.opts.UnusedAfter:
				// Not used yet by an entity younger than the window: not unused for N days.
				used = append(used, item)
				young++
			default:
				unused = append(unused, item)
				names = append(names, s.Namespace)
			}
		}
		ev["unused_services"], ev["used_services"] = orEmpty(unused), orEmpty(used)
		ev["unused_after_days"] = days(e.opts.UnusedAfter)
		if len(unused) > 0 {
			e.fail(c, a.id, arn, fmt.Sprintf("%d of the %s its policies grant not used in %d days: %s",
				len(unused), services(len(l.Services)), days(e.opts.UnusedAfter), strings.Join(names, ", ")), ev)
			continue
		}
		reason := fmt.Sprintf("no service unused for %d days: %d of the %s its policies grant used in that time", days(e.opts.UnusedAfter),
			len(l.Services)-young, services(len(l.Services)))
		if young > 0 {
			reason += fmt.Sprintf(", %d not used yet by a %s created %s, less than %d days before the sync", young, kindOf(arn), fmtTime(*created), days(e.opts.UnusedAfter))
		}
		e.pass(c, a.id, arn, reason, ev)
	}
}

func services(n int) string {
	if n == 1 {
		return "1 service"
	}
	return fmt.Sprintf("%d services", n)
}

// kindOf is "user" or "role" from an IAM ARN.
func kindOf(arn string) string {
	if strings.Contains(arn, ":user/") {
		return "user"
	}
	return "role"
}

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}
