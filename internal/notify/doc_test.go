package notify_test

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/notify"
)

// The Python verification snippet of docs/notifications.md accepts what Gatehouse signs, and
// refuses another secret and an altered body: the documentation receivers copy is right.
func TestDocumentedPythonVerifierAgreesWithSign(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the Python snippet of docs/notifications.md is not checked here")
	}
	doc, err := os.ReadFile("../../docs/notifications.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```python\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/notifications.md has no Python snippet")
	}
	body := `{"event":"granted","request":{"reason":"naïve & <ok>"}}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := notify.Sign("s3cret-doc", ts, []byte(body))
	script := string(m[1]) + `
import sys
body = sys.stdin.buffer.read()
h = {"X-Gatehouse-Timestamp": sys.argv[1], "X-Gatehouse-Signature": sys.argv[2]}
verify(b"s3cret-doc", h, body)
print("ok")
for secret, b in ((b"another", body), (b"s3cret-doc", body + b" ")):
    try:
        verify(secret, h, b)
        print("accepted")
    except ValueError as e:
        print("refused:", e)
`
	cmd := exec.Command(py, "-c", script, ts, sig)
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "ok\nrefused: bad signature: not signed with this secret, or altered\nrefused: bad signature: not signed with this secret, or altered\n"
	if string(out) != want {
		t.Fatalf("python said\n%s\nwant\n%s", out, want)
	}
}
