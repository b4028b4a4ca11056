package iampolicy

import "testing"

func TestParseAcceptsIAMShorthands(t *testing.T) {
	d, err := Parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":true}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	st := d.Statement[0]
	if len(d.Statement) != 1 || !st.Principal.Any || st.Action[0] != "s3:GetObject" || st.Condition["Bool"]["aws:SecureTransport"][0] != "true" {
		t.Errorf("parsed %+v", d)
	}
	if _, err := Parse(`{"Statement":`); err == nil {
		t.Error("a truncated document parsed")
	}
}

func TestStatementApplies(t *testing.T) {
	st := Statement{Effect: "Allow", Action: StringList{"IAM:List*"}, Resource: StringList{"arn:aws:iam::1:user/*"}}
	cases := []struct {
		action, resource string
		want             bool
	}{
		{"iam:ListUsers", "arn:aws:iam::1:user/path/alice", true}, // "*" crosses "/"
		{"iam:ListUsers", "arn:aws:iam::2:user/alice", false},
		{"iam:GetUser", "arn:aws:iam::1:user/alice", false},
		{"iam:ListUsers", "", true}, // resource not known
	}
	for _, c := range cases {
		if got := st.Applies(c.action, c.resource); got != c.want {
			t.Errorf("Applies(%q, %q) = %v, want %v", c.action, c.resource, got, c.want)
		}
	}
	not := Statement{Effect: "Allow", NotAction: StringList{"iam:*"}, NotResource: StringList{"arn:aws:s3:::secret*"}}
	if not.Applies("iam:ListUsers", "x") || !not.Applies("s3:GetObject", "arn:aws:s3:::public") || not.Applies("s3:GetObject", "arn:aws:s3:::secret-b") {
		t.Error("NotAction/NotResource evaluated wrongly")
	}
	if !Match("a?c*", "abcdef") || Match("a?c", "ac") {
		t.Error("Match wildcards wrong")
	}
}

// IAM URL-encodes documents (RFC 3986): "%2B" and a literal "+" are both a plus sign,
// "%20" a space; plain JSON is left alone.
func TestDecodeDocument(t *testing.T) {
	for in, want := range map[string]string{
		"%7B%22a%22%3A%22x+y%22%7D":   `{"a":"x+y"}`,
		"%7B%22a%22%3A%22x%2By%22%7D": `{"a":"x+y"}`,
		"%7B%22a%22%3A%22x%20y%22%7D": `{"a":"x y"}`,
		` {"a":"x%20y"}`:              ` {"a":"x%20y"}`,
		"":                            "",
	} {
		if got := DecodeDocument(in); got != want {
			t.Errorf("DecodeDocument(%q) = %q, want %q", in, got, want)
		}
	}
}
