package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundtrip(t *testing.T) {
	k, err := NewKeyring(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "scim-token-0123456789abcdef"
	sealed, err := k.Seal([]byte(secret), "connection:aws")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, secret) || !strings.HasPrefix(sealed, "gh1."+k.KeyID()+".") {
		t.Fatalf("sealed = %q: want gh1.%s.<data> without the plaintext", sealed, k.KeyID())
	}
	again, _ := k.Seal([]byte(secret), "connection:aws")
	if again == sealed {
		t.Fatal("two seals of one plaintext are equal: the nonce is not random")
	}
	got, err := k.Open(sealed, "connection:aws")
	if err != nil || string(got) != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Bound to its use: the same value under another connection does not open.
	if _, err := k.Open(sealed, "connection:other"); !errors.Is(err, ErrTampered) {
		t.Fatalf("Open with another aad: %v, want ErrTampered", err)
	}
}

func TestOpenWithWrongKeyFailsClearly(t *testing.T) {
	a, _ := NewKeyring(newKey(t))
	b, _ := NewKeyring(newKey(t))
	sealed, _ := a.Seal([]byte("x"), "")
	_, err := b.Open(sealed, "")
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v, want ErrWrongKey", err)
	}
	for _, want := range []string{"sealed with key " + a.KeyID(), "this server's key is " + b.KeyID(), "secret_key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// A keyring holding the old key as well opens it (rotation).
	keyA, keyB := newKey(t), newKey(t)
	old, _ := NewKeyring(keyA)
	sealed, _ = old.Seal([]byte("rotated"), "")
	both, _ := NewKeyring(keyB, keyA)
	if got, err := both.Open(sealed, ""); err != nil || string(got) != "rotated" {
		t.Fatalf("rotated keyring: %q %v", got, err)
	}
	if both.KeyID() != KeyID(keyB) {
		t.Fatalf("primary = %s, want the first key %s", both.KeyID(), KeyID(keyB))
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	k, _ := NewKeyring(newKey(t))
	sealed, _ := k.Seal([]byte("secret value"), "connection:aws")
	i := strings.LastIndex(sealed, ".") + 1
	raw, _ := base64.RawURLEncoding.DecodeString(sealed[i:])
	for name, bad := range map[string]string{
		"flipped bit": sealed[:i] + base64.RawURLEncoding.EncodeToString(append(append([]byte{}, raw[:20]...), append([]byte{raw[20] ^ 1}, raw[21:]...)...)),
		"truncated":   sealed[:len(sealed)-4],
		"too short":   sealed[:i] + "AAAA",
		"not sealed":  "plain text",
		"not base64":  sealed[:i] + "!!!!",
	} {
		if got, err := k.Open(bad, "connection:aws"); !errors.Is(err, ErrTampered) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrTampered", name, got, err)
		} else if strings.Contains(err.Error(), "secret value") {
			t.Errorf("%s: the error shows the plaintext: %v", name, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := newKey(t)
	for _, s := range []string{base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key) + "\n"} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("ParseKey(%q) = %v", s, err)
		}
	}
	if _, err := ParseKey(base64.StdEncoding.EncodeToString(key[:16])); err == nil || !strings.Contains(err.Error(), "16 bytes") || !strings.Contains(err.Error(), "openssl rand -base64 32") {
		t.Fatalf("short key: %v", err)
	}
	if _, err := ParseKey("not base64 at all!"); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Fatalf("bad key: %v", err)
	}
}

func TestLoadCreatesKeyFileOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k, err := Load(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s is %04o, want 0600", path, fi.Mode().Perm())
	}
	if k.Source != path {
		t.Fatalf("Source = %q", k.Source)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("data dir holds %d files, want only %s (no temporary file left)", len(entries), KeyFile)
	}
	sealed, _ := k.Seal([]byte("kept"), "")
	// The next start reads the same key.
	k2, err := Load(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.Open(sealed, ""); err != nil || string(got) != "kept" {
		t.Fatalf("after restart: %q %v", got, err)
	}
}

func TestLoadRefusesReadableKeyFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(Options{DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFile)
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(Options{DataDir: dir})
		if err == nil {
			t.Fatalf("mode %04o: Load succeeded", mode)
		}
		for _, want := range []string{"chmod 600 " + path, "group and others can read"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("mode %04o: error %q does not say %q", mode, err, want)
			}
		}
	}
}

func TestLoadConfiguredKey(t *testing.T) {
	key := newKey(t)
	dir := t.TempDir()
	k, err := Load(Options{Key: base64.StdEncoding.EncodeToString(key), DataDir: dir, Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyID() != KeyID(key) || k.Source != "secret_key" {
		t.Fatalf("keyring %s from %s", k.KeyID(), k.Source)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); !os.IsNotExist(err) {
		t.Fatalf("a configured key must not create %s: %v", KeyFile, err)
	}
	_, err = Load(Options{Key: "c2hvcnQ=", DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_SECRET_KEY") || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Fatalf("bad configured key: %v (must name the setting and not echo the value)", err)
	}
}

func TestLoadSharedRequiresKey(t *testing.T) {
	_, err := Load(Options{DataDir: t.TempDir(), Shared: true})
	if err == nil {
		t.Fatal("Load with Shared and no key succeeded")
	}
	for _, want := range []string{"secret_key is required", "openssl rand -base64 32", "GATEHOUSE_SECRET_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
