package versioncache

import (
	"fmt"
	"testing"
	"time"
)

func TestEntriesLastForTheirVersionAndTTL(t *testing.T) {
	var c Cache[string]
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Put("k", "v1", "page", t0, 30*time.Second)
	if got, ok := c.Get("k", "v1", t0.Add(29*time.Second)); !ok || got != "page" {
		t.Fatalf("within the TTL: %q %v", got, ok)
	}
	if _, ok := c.Get("k", "v2", t0.Add(time.Second)); ok {
		t.Fatal("an entry of another inventory version was served")
	}
	if _, ok := c.Get("k", "v1", t0.Add(31*time.Second)); ok {
		t.Fatal("an expired entry was served")
	}
	if _, ok := c.Get("other", "v1", t0); ok {
		t.Fatal("a missing key was served")
	}
	c.Reset()
	if c.Len() != 0 {
		t.Fatalf("%d entries after Reset", c.Len())
	}
}

func TestFullCacheMakesRoomExpiredFirst(t *testing.T) {
	c := Cache[int]{Max: 3}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Put("old", "v", 1, t0, time.Second)
	c.Put("a", "v", 2, t0, time.Hour)
	c.Put("b", "v", 3, t0, time.Hour)
	c.Put("c", "v", 4, t0.Add(time.Minute), time.Hour) // "old" has expired: it goes
	for _, k := range []string{"a", "b", "c"} {
		if _, ok := c.Get(k, "v", t0.Add(time.Minute)); !ok {
			t.Fatalf("%s was dropped while an expired entry could go", k)
		}
	}
	for i := 0; i < 10; i++ {
		c.Put(fmt.Sprint(i), "v", i, t0.Add(time.Minute), time.Hour)
	}
	if c.Len() != 3 {
		t.Fatalf("%d entries, want the bound 3", c.Len())
	}
}
