package awssim

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// opHandler serves one operation. It runs with the world locked and returns the result
// to encode (nil for an empty result) or an AWS error. It must not change state before
// it has validated its input: an error leaves the world as it was.
type opHandler func(q *request) (any, *apiError)

// ops holds every operation the simulator serves, by service signing name and operation.
var ops = map[string]map[string]opHandler{}

// register adds the operations of a service. Service files call it from init.
func register(service string, handlers map[string]opHandler) {
	if ops[service] == nil {
		ops[service] = map[string]opHandler{}
	}
	for name, h := range handlers {
		ops[service][name] = h
	}
}

func init() {
	protocols["iam"] = queryProtocol
	protocols["sts"] = queryProtocol
	protocols["organizations"] = jsonProtocol
	protocols["sso"] = jsonProtocol
	protocols["identitystore"] = jsonProtocol
}

// Query protocol (IAM, STS): form-encoded POST with Action and Version; XML responses.

var queryProtocol = &protocol{
	operation: func(q *request) (string, *apiError) {
		form, err := url.ParseQuery(string(q.body))
		if err != nil {
			return "", &apiError{Status: 400, Code: "MalformedQueryString", Message: err.Error()}
		}
		if q.http.URL.RawQuery != "" { // GET-style query requests carry the parameters in the URL
			extra, _ := url.ParseQuery(q.http.URL.RawQuery)
			for k, v := range extra {
				form[k] = v
			}
		}
		q.form = form
		action := form.Get("Action")
		if action == "" {
			return "", &apiError{Status: 400, Code: "MissingAction", Message: "Could not find operation to perform: the Action parameter is missing."}
		}
		if ops[q.service][action] == nil {
			return "", &apiError{Status: 400, Code: "InvalidAction", Message: fmt.Sprintf("Could not find operation %s for version %s", action, form.Get("Version"))}
		}
		return action, nil
	},
	serve: func(q *request, rw http.ResponseWriter) {
		result, err := ops[q.service][q.op](q)
		if err != nil {
			q.writeError(rw, err)
			return
		}
		writeQueryResult(q, rw, result)
	},
	writeErr: func(q *request, rw http.ResponseWriter, e *apiError) {
		kind := "Sender"
		if e.Status >= 500 {
			kind = "Receiver"
		}
		rw.Header().Set("Content-Type", "text/xml")
		rw.Header().Set("X-Amzn-Requestid", q.requestID)
		rw.WriteHeader(e.Status)
		fmt.Fprintf(rw, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			queryNamespace(q.service), kind, xmlEscape(e.Code), xmlEscape(e.Message), q.requestID)
	},
}

func queryNamespace(service string) string {
	if service == "sts" {
		return "https://sts.amazonaws.com/doc/2011-06-15/"
	}
	return "https://iam.amazonaws.com/doc/2010-05-08/"
}

func writeQueryResult(q *request, rw http.ResponseWriter, result any) {
	rw.Header().Set("Content-Type", "text/xml")
	rw.Header().Set("X-Amzn-Requestid", q.requestID)
	var b strings.Builder
	enc := xml.NewEncoder(&b)
	start := xml.StartElement{Name: xml.Name{Local: q.op + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: queryNamespace(q.service)}}}
	_ = enc.EncodeToken(start)
	if result != nil {
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: q.op + "Result"}}); err != nil {
			q.writeError(rw, &apiError{Status: 500, Code: "ServiceFailure", Message: "simulator could not encode the result: " + err.Error()})
			return
		}
	}
	_ = enc.EncodeElement(struct {
		RequestID string `xml:"RequestId"`
	}{q.requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	_ = enc.EncodeToken(start.End())
	_ = enc.Flush()
	_, _ = rw.Write([]byte(b.String()))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// JSON 1.1 protocol (Organizations, SSO Admin, Identity Store): POST / with
// X-Amz-Target: Prefix.Operation and a JSON body.

var jsonProtocol = &protocol{
	operation: func(q *request) (string, *apiError) {
		target := q.http.Header.Get("X-Amz-Target")
		prefix, op, ok := strings.Cut(target, ".")
		if !ok || prefix != jsonTargetPrefix[q.service] {
			return "", &apiError{Status: 400, Code: "UnknownOperationException", Message: fmt.Sprintf("X-Amz-Target %q is not an operation of %s", target, q.service)}
		}
		if ops[q.service][op] == nil {
			return "", &apiError{Status: 400, Code: "UnknownOperationException", Message: "The simulator does not implement " + target}
		}
		return op, nil
	},
	serve: func(q *request, rw http.ResponseWriter) {
		result, err := ops[q.service][q.op](q)
		if err != nil {
			q.writeError(rw, err)
			return
		}
		if result == nil {
			result = struct{}{}
		}
		b, merr := json.Marshal(result)
		if merr != nil {
			q.writeError(rw, &apiError{Status: 500, Code: "InternalServerException", Message: "simulator could not encode the result: " + merr.Error()})
			return
		}
		rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
		rw.Header().Set("X-Amzn-Requestid", q.requestID)
		_, _ = rw.Write(b)
	},
	writeErr: func(q *request, rw http.ResponseWriter, e *apiError) {
		code := e.Code
		if code == "AccessDenied" {
			code = "AccessDeniedException"
		}
		rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
		rw.Header().Set("X-Amzn-Requestid", q.requestID)
		rw.Header().Set("X-Amzn-Errortype", code)
		rw.WriteHeader(e.Status)
		b, _ := json.Marshal(map[string]string{"__type": code, "message": e.Message, "Message": e.Message})
		_, _ = rw.Write(b)
	},
}

var jsonTargetPrefix = map[string]string{
	"organizations": "AWSOrganizationsV20161128",
	"sso":           "SWBExternalService",
	"identitystore": "AWSIdentityStore",
}

// decodeJSON decodes the request body of a JSON-protocol call.
func (q *request) decodeJSON(v any) *apiError {
	if len(q.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(q.body, v); err != nil {
		return validationError(q.service, "The request body is not valid JSON for "+q.op+": "+err.Error())
	}
	return nil
}

// validationError is the service's error for malformed input.
func validationError(service, msg string) *apiError {
	switch service {
	case "iam", "sts":
		return &apiError{Status: 400, Code: "ValidationError", Message: msg}
	case "organizations":
		return &apiError{Status: 400, Code: "InvalidInputException", Message: msg}
	case "s3":
		return &apiError{Status: 400, Code: "InvalidArgument", Message: msg}
	}
	return &apiError{Status: 400, Code: "ValidationException", Message: msg}
}

// Epoch is a timestamp encoded as JSON epoch seconds, as the JSON protocols send them.
type Epoch time.Time

// MarshalJSON encodes seconds since the epoch with millisecond precision.
func (e Epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(math.Round(float64(t.UnixMilli()))/1000, 'f', -1, 64)), nil
}

// epoch returns a pointer for optional timestamp fields (nil for the zero time).
func epoch(t time.Time) *Epoch {
	if t.IsZero() {
		return nil
	}
	e := Epoch(t)
	return &e
}

// Parameters of query-protocol calls.

// param returns a form parameter.
func (q *request) param(name string) string { return q.form.Get(name) }

// required returns a form parameter or the error AWS returns when it is missing.
func (q *request) required(name string) (string, *apiError) {
	v := q.form.Get(name)
	if v == "" {
		return "", validationError(q.service, fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name)))
	}
	return v, nil
}

// intParam returns an integer form parameter (0 when absent).
func (q *request) intParam(name string) (int, *apiError) {
	v := q.form.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validationError(q.service, fmt.Sprintf("%s must be an integer, got %q", name, v))
	}
	return n, nil
}

// listParam returns a query-protocol list: Name.member.1, Name.member.2, ...
func (q *request) listParam(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := q.form[fmt.Sprintf("%s.member.%d", name, i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Pagination.

// page returns the items of one page and the token of the next page ("" on the last).
// token is the caller's token ("" for the first page), requested the caller's page size
// (0 when not given), def and max the service's default and maximum page sizes. The
// simulator's PageSize option caps every page.
func page[T any](q *request, items []T, token string, requested, def, max int) ([]T, string, *apiError) {
	size := def
	if requested > 0 {
		size = requested
	}
	if max > 0 && size > max {
		size = max
	}
	if ps := q.sim.opts.PageSize; ps > 0 && size > ps {
		size = ps
	}
	if size <= 0 {
		size = 100
	}
	start := 0
	if token != "" {
		n, err := decodeToken(token, q.op)
		if err != nil || n > len(items) {
			return nil, "", invalidToken4(q.service, token)
		}
		start = n
	}
	end := start + size
	if end >= len(items) {
		return items[start:], "", nil
	}
	return items[start:end], encodeToken(end, q.op), nil
}

func encodeToken(offset int, op string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d", op, offset)))
}

func decodeToken(token, op string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, err
	}
	prefix, n, ok := strings.Cut(string(raw), ":")
	if !ok || prefix != op {
		return 0, fmt.Errorf("token of another operation")
	}
	return strconv.Atoi(n)
}

func invalidToken4(service, token string) *apiError {
	switch service {
	case "iam":
		return &apiError{Status: 400, Code: "ValidationError", Message: "Invalid Marker: " + token}
	case "organizations":
		return &apiError{Status: 400, Code: "InvalidInputException", Message: "You specified an invalid value for nextToken."}
	case "s3":
		return &apiError{Status: 400, Code: "InvalidArgument", Message: "The continuation token provided is incorrect"}
	}
	return &apiError{Status: 400, Code: "ValidationException", Message: "The next token is not valid: " + token}
}

// Authorization: the IAM action and resource of a call.

// actionOf returns the IAM action of an operation, or "" when the simulator does not check
// it centrally (sts: GetCallerIdentity needs no permission; AssumeRole is checked by its
// handler together with the trust policy).
func actionOf(service, op string) string {
	switch service {
	case "sts":
		return ""
	case "s3":
		return s3Actions[op]
	}
	return service + ":" + op
}

// resource returns the resource ARN a call acts on, or "" when the simulator does not model
// it (then every Resource element of a policy matches).
func (q *request) resource() string {
	switch q.service {
	case "iam":
		return q.iamResource()
	case "s3":
		return q.s3Resource()
	}
	return ""
}
