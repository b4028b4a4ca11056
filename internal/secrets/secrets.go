// Package secrets encrypts the secrets Gatehouse stores (External IDs, SCIM tokens, AWS
// secret access keys) with AES-256-GCM under a key that never enters the database: given
// by the configuration (secret_key, GATEHOUSE_SECRET_KEY) or kept in the data directory
// (secret.key, created 0600 on first start).
//
// A sealed value names the key that sealed it ("gh1.<key id>.<base64>"), so that a key
// can be rotated later: a Keyring opens values sealed by any of its keys and seals with
// its first. Plaintexts never appear in errors or logs.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the key's file name in the data directory.
const KeyFile = "secret.key"

// KeySize is the size of a key: AES-256.
const KeySize = 32

// prefix starts every sealed value: the format's version.
const prefix = "gh1"

// GenerateHint says how to make a key, for error messages and docs.
const GenerateHint = "generate one with `openssl rand -base64 32`"

// ErrWrongKey is returned (wrapped) by Open for a value sealed with a key the keyring
// does not hold.
var ErrWrongKey = errors.New("sealed with a different key")

// ErrTampered is returned (wrapped) by Open for a value that does not decrypt: altered,
// truncated, or sealed for another use.
var ErrTampered = errors.New("the sealed value was altered or is corrupt")

// Keyring seals with its primary key and opens with any of its keys.
type Keyring struct {
	primary string // key id
	aeads   map[string]cipher.AEAD
	// Source says where the primary key came from (for the start-up log; never the key).
	Source string
}

// NewKeyring returns a keyring of the keys (each KeySize bytes); the first seals.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("secrets: no key")
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secret key %d is %d bytes; it must be %d bytes (%s)", i+1, len(key), KeySize, GenerateHint)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := KeyID(key)
		if i == 0 {
			k.primary = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// KeyID is a short public name of a key: the first 8 hex digits of a SHA-256 of it
// (domain-separated, so it says nothing usable about the key).
func KeyID(key []byte) string {
	h := sha256.Sum256(append([]byte("gatehouse secret key id\x00"), key...))
	return hex.EncodeToString(h[:4])
}

// KeyID is the id of the key that seals.
func (k *Keyring) KeyID() string { return k.primary }

// ParseKey decodes a base64 (standard or URL alphabet, padded or not) key of KeySize
// bytes. The error names the problem, never the value.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("the key decodes to %d bytes; it must be %d bytes of base64 (%s)", len(b), KeySize, GenerateHint)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("the key is not base64; it must be %d random bytes in base64 (%s)", KeySize, GenerateHint)
}

// Seal encrypts plaintext. aad binds the value to its use (for example "connection:aws"):
// a sealed value copied to another use does not open.
func (k *Keyring) Seal(plaintext []byte, aad string) (string, error) {
	aead := k.aeads[k.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secrets: random nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, []byte(aad))
	return prefix + "." + k.primary + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed by Seal with the same aad by one of the keyring's keys.
func (k *Keyring) Open(sealed, aad string) ([]byte, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != prefix {
		return nil, fmt.Errorf("secrets: not a sealed value (want %s.<key id>.<data>): %w", prefix, ErrTampered)
	}
	aead, ok := k.aeads[parts[1]]
	if !ok {
		return nil, fmt.Errorf("secrets: the value was sealed with key %s, but this server's key is %s: start it with the secret_key (or %s) it was sealed with: %w",
			parts[1], k.primary, KeyFile, ErrWrongKey)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("secrets: %w", ErrTampered)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("secrets: key %s: %w", parts[1], ErrTampered)
	}
	return plain, nil
}

// Options says where the key comes from.
type Options struct {
	// Key is the configured key (base64 of 32 bytes); it wins over the file.
	Key string
	// DataDir holds secret.key when Key is empty.
	DataDir string
	// Shared is true when several replicas may share the store (PostgreSQL): then a key
	// file per data directory would differ between replicas, and Key is required.
	Shared bool
}

// Load returns the keyring of the configured key, or of the key file in the data
// directory, creating it (0600) on first start. It refuses a key file that group or
// others may read, and, with Shared, a missing Key.
func Load(o Options) (*Keyring, error) {
	if o.Key != "" {
		key, err := ParseKey(o.Key)
		if err != nil {
			return nil, fmt.Errorf("secret_key (GATEHOUSE_SECRET_KEY): %w", err)
		}
		k, err := NewKeyring(key)
		if err != nil {
			return nil, err
		}
		k.Source = "secret_key"
		return k, nil
	}
	if o.Shared {
		return nil, fmt.Errorf("secret_key is required with a PostgreSQL database_url: every replica must encrypt and decrypt stored secrets with the same key, and a key file in each data directory would differ. Generate one with `openssl rand -base64 32` and give it to every replica as GATEHOUSE_SECRET_KEY (or secret_key in the config file)")
	}
	if o.DataDir == "" {
		return nil, errors.New("secret key: set secret_key (GATEHOUSE_SECRET_KEY) or a data directory to keep secret.key in")
	}
	path := filepath.Join(o.DataDir, KeyFile)
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(o.DataDir, path)
	}
	if err != nil {
		return nil, err
	}
	k, err := NewKeyring(key)
	if err != nil {
		return nil, err
	}
	k.Source = path
	return k, nil
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("secret key %s is a directory; it must be the key file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secret key %s has permissions %04o: group and others can read the key that decrypts the stored secrets. Make it readable by its owner only (chmod 600 %s), and since it may have been read, consider the stored secrets exposed", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	key, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	return key, nil
}

// createKeyFile writes a new random key. It is written to a temporary file and linked
// into place, which fails if the key file exists: two processes starting at once never
// see a half-written key, and the loser reads the winner's.
func createKeyFile(dir, path string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secret key: random: %w", err)
	}
	f, err := os.CreateTemp(dir, ".secret.key-*")
	if err != nil {
		return nil, fmt.Errorf("create secret key in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	// CreateTemp makes the file 0600 already; say so explicitly, whatever the umask.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write secret key %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("create secret key %s: %w", path, err)
	}
	return key, nil
}
