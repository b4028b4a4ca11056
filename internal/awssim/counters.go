package awssim

import (
	"sort"
	"sync"
)

// Counters count calls per service and operation, including the calls answered with a
// throttling error or an injected fault.
type Counters struct {
	mu     sync.Mutex
	counts map[string]*OpCount
}

// OpCount is what happened to the calls of one operation.
type OpCount struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Calls     int64  `json:"calls"`
	Throttled int64  `json:"throttled"`
	Faults    int64  `json:"faults"`
}

func newCounters() *Counters { return &Counters{counts: map[string]*OpCount{}} }

func (c *Counters) get(service, op string) *OpCount {
	k := service + ":" + op
	oc := c.counts[k]
	if oc == nil {
		oc = &OpCount{Service: service, Operation: op}
		c.counts[k] = oc
	}
	return oc
}

func (c *Counters) count(service, op string) {
	c.mu.Lock()
	c.get(service, op).Calls++
	c.mu.Unlock()
}

func (c *Counters) throttle(service, op string) {
	c.mu.Lock()
	c.get(service, op).Throttled++
	c.mu.Unlock()
}

func (c *Counters) fault(service, op string) {
	c.mu.Lock()
	c.get(service, op).Faults++
	c.mu.Unlock()
}

// Snapshot returns every operation's counts, sorted by service and operation.
func (c *Counters) Snapshot() []OpCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]OpCount, 0, len(c.counts))
	for _, oc := range c.counts {
		out = append(out, *oc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Operation < out[j].Operation
	})
	return out
}

// Calls returns the number of calls to one operation ("" for every operation of the service).
func (c *Counters) Calls(service, op string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, oc := range c.counts {
		if oc.Service == service && (op == "" || oc.Operation == op) {
			n += oc.Calls
		}
	}
	return n
}

// Total returns the number of calls to every service.
func (c *Counters) Total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, oc := range c.counts {
		n += oc.Calls
	}
	return n
}

// Reset sets every counter to zero.
func (c *Counters) Reset() {
	c.mu.Lock()
	c.counts = map[string]*OpCount{}
	c.mu.Unlock()
}
