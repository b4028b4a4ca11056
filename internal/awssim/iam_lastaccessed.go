package awssim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// IAM's service last accessed data (access advisor): GenerateServiceLastAccessedDetails
// starts an asynchronous job for a user, role, group or managed policy and returns its
// JobId; GetServiceLastAccessedDetails answers IN_PROGRESS for Options.AccessJobDelay,
// then COMPLETED with one entry per service the entity's permissions policies allow
// (resource-based policies, SCPs and boundaries do not count, as in AWS), paged with
// Marker and MaxItems. A service the entity never used has no LastAuthenticated.
//
// The services come from the Allow statements' actions of the entity's inline and
// attached policies (and, for a user, its groups'); an action "*" grants every service
// of allServices. When an entity used a service is what the fixture declares
// (services_last_accessed) or SetServiceLastAccessed sets. As in AWS a job is the
// caller's: another principal gets NoSuchEntity for it.

func init() {
	register("iam", map[string]opHandler{
		"GenerateServiceLastAccessedDetails": iamGenerateServiceLastAccessedDetails,
		"GetServiceLastAccessedDetails":      iamGetServiceLastAccessedDetails,
	})
}

// AccessJob is one GenerateServiceLastAccessedDetails job.
type AccessJob struct {
	ID          string
	EntityARN   string
	Owner       string // the principal that started it: the role's or user's ARN
	Granularity string
	CreatedAt   time.Time
	ReadyAt     time.Time
}

// allServices are the services "*" grants, with the names IAM reports.
var allServices = map[string]string{
	"ec2":        "Amazon EC2",
	"iam":        "AWS Identity and Access Management",
	"lambda":     "AWS Lambda",
	"s3":         "Amazon S3",
	"sts":        "AWS Security Token Service",
	"dynamodb":   "Amazon DynamoDB",
	"cloudwatch": "Amazon CloudWatch",
	"logs":       "Amazon CloudWatch Logs",
	"kms":        "AWS Key Management Service",
	"sso":        "AWS IAM Identity Center",
	"support":    "AWS Support",
}

// serviceName is IAM's name of a service namespace.
func serviceName(ns string) string {
	if n, ok := allServices[ns]; ok {
		return n
	}
	return "AWS " + strings.ToUpper(ns[:1]) + ns[1:]
}

// SetServiceLastAccessed records that the entity (a user or role ARN) used the service
// (its namespace, such as "s3") at t.
func (w *World) SetServiceLastAccessed(entityARN, namespace string, t time.Time) error {
	for _, a := range w.Accounts {
		for _, u := range a.Users {
			if u.ARN == entityARN {
				if u.ServiceLastAccessed == nil {
					u.ServiceLastAccessed = map[string]time.Time{}
				}
				u.ServiceLastAccessed[namespace] = t.UTC()
				return nil
			}
		}
		for _, r := range a.Roles {
			if r.ARN == entityARN {
				if r.ServiceLastAccessed == nil {
					r.ServiceLastAccessed = map[string]time.Time{}
				}
				r.ServiceLastAccessed[namespace] = t.UTC()
				return nil
			}
		}
	}
	return fmt.Errorf("no user or role %s", entityARN)
}

type generateServiceLastAccessedDetailsResult struct {
	JobId string `xml:"JobId"`
}

// accessEntity finds the user or role an ARN names in the caller's account.
func (q *request) accessEntity(arn string) (*Principal, *apiError) {
	a := q.account()
	for _, u := range a.Users {
		if u.ARN == arn {
			return &Principal{AccountID: a.ID, User: u}, nil
		}
	}
	for _, r := range a.Roles {
		if r.ARN == arn {
			return &Principal{AccountID: a.ID, Role: r}, nil
		}
	}
	return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "The entity " + arn + " cannot be found."}
}

// jobOwner is the principal a job belongs to: the role (not the session) or the user.
func (q *request) jobOwner() string {
	switch {
	case q.caller.Role != nil:
		return q.caller.Role.ARN
	case q.caller.User != nil:
		return q.caller.User.ARN
	}
	return q.caller.ARN
}

func iamGenerateServiceLastAccessedDetails(q *request) (any, *apiError) {
	arn, err := q.required("Arn")
	if err != nil {
		return nil, err
	}
	gran := q.param("Granularity")
	switch gran {
	case "":
		gran = "SERVICE_LEVEL"
	case "SERVICE_LEVEL", "ACTION_LEVEL":
	default:
		return nil, iamValidation("1 validation error detected: Value '%s' at 'granularity' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_LEVEL, ACTION_LEVEL]", gran)
	}
	if _, err := q.accessEntity(arn); err != nil {
		return nil, err
	}
	a := q.account()
	if a.AccessJobs == nil {
		a.AccessJobs = map[string]*AccessJob{}
	}
	n := q.w.nextSeq()
	id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", n, n%0xffff, 0x4000|n%0xfff, 0x8000|n%0x3fff, n*7919)
	now := q.w.Now()
	a.AccessJobs[id] = &AccessJob{ID: id, EntityARN: arn, Owner: q.jobOwner(), Granularity: gran, CreatedAt: now,
		ReadyAt: now.Add(q.sim.opts.AccessJobDelay)}
	return generateServiceLastAccessedDetailsResult{JobId: id}, nil
}

type xmlServiceLastAccessed struct {
	ServiceName                string     `xml:"ServiceName"`
	ServiceNamespace           string     `xml:"ServiceNamespace"`
	LastAuthenticated          *time.Time `xml:"LastAuthenticated,omitempty"`
	LastAuthenticatedEntity    string     `xml:"LastAuthenticatedEntity,omitempty"`
	LastAuthenticatedRegion    string     `xml:"LastAuthenticatedRegion,omitempty"`
	TotalAuthenticatedEntities int        `xml:"TotalAuthenticatedEntities"`
}

type getServiceLastAccessedDetailsResult struct {
	JobStatus            string                          `xml:"JobStatus"`
	JobType              string                          `xml:"JobType"`
	JobCreationDate      time.Time                       `xml:"JobCreationDate"`
	JobCompletionDate    *time.Time                      `xml:"JobCompletionDate,omitempty"`
	ServicesLastAccessed xmlList[xmlServiceLastAccessed] `xml:"ServicesLastAccessed"`
	IsTruncated          bool                            `xml:"IsTruncated"`
	Marker               string                          `xml:"Marker,omitempty"`
}

func iamGetServiceLastAccessedDetails(q *request) (any, *apiError) {
	id, err := q.required("JobId")
	if err != nil {
		return nil, err
	}
	job := q.account().AccessJobs[id]
	if job == nil || job.Owner != q.jobOwner() {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "No job found for JobId " + id + "."}
	}
	res := getServiceLastAccessedDetailsResult{JobStatus: "IN_PROGRESS", JobType: job.Granularity, JobCreationDate: job.CreatedAt}
	if q.w.Now().Before(job.ReadyAt) {
		res.ServicesLastAccessed.Member = []xmlServiceLastAccessed{}
		return res, nil
	}
	p, aerr := q.accessEntity(job.EntityARN)
	if aerr != nil {
		// The entity was deleted after the job started.
		return nil, aerr
	}
	done := job.ReadyAt
	res.JobStatus, res.JobCompletionDate = "COMPLETED", &done
	items := q.w.servicesLastAccessed(p, job.ReadyAt)
	pg, next, aerr := iamPage(q, items)
	if aerr != nil {
		return nil, aerr
	}
	res.ServicesLastAccessed.Member, res.IsTruncated, res.Marker = pg, next != "", next
	if res.ServicesLastAccessed.Member == nil {
		res.ServicesLastAccessed.Member = []xmlServiceLastAccessed{}
	}
	return res, nil
}

// servicesLastAccessed lists the services the entity's permissions policies allow,
// sorted by namespace, with when it last used each (as of asOf: later uses are not in a
// job completed then).
func (w *World) servicesLastAccessed(p *Principal, asOf time.Time) []xmlServiceLastAccessed {
	granted := map[string]bool{}
	for _, doc := range w.identityPolicies(p) {
		pol, err := parsePolicy(doc)
		if err != nil {
			continue
		}
		for _, st := range pol.statements {
			if !strings.EqualFold(st.effect, "Allow") {
				continue
			}
			actions := st.actions
			if st.hasNotAction {
				actions = []string{"*"} // NotAction allows everything else
			}
			for _, act := range actions {
				ns, _, ok := strings.Cut(act, ":")
				if !ok || ns == "*" {
					for s := range allServices {
						granted[s] = true
					}
					continue
				}
				granted[strings.ToLower(ns)] = true
			}
		}
	}
	used, arn := map[string]time.Time(nil), ""
	switch {
	case p.Role != nil:
		used, arn = p.Role.ServiceLastAccessed, p.Role.ARN
	case p.User != nil:
		used, arn = p.User.ServiceLastAccessed, p.User.ARN
	}
	names := make([]string, 0, len(granted))
	for ns := range granted {
		names = append(names, ns)
	}
	sort.Strings(names)
	out := make([]xmlServiceLastAccessed, 0, len(names))
	for _, ns := range names {
		e := xmlServiceLastAccessed{ServiceName: serviceName(ns), ServiceNamespace: ns}
		if t, ok := used[ns]; ok && !t.After(asOf) {
			t := t
			e.LastAuthenticated, e.LastAuthenticatedEntity, e.LastAuthenticatedRegion = &t, arn, w.Region
			e.TotalAuthenticatedEntities = 1
		}
		out = append(out, e)
	}
	return out
}
