package enrich

import (
	"strings"
	"sync"

	"github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"

	"github.com/firelane/firelane/internal/event"
)

// Client parses the request's User-Agent header (from ingest's context) into browser, OS and device
// family with github.com/medama-io/go-useragent. A bare CloudEvent has no user agent and gets no
// client member.
//
// Real traffic repeats a few thousand user agents, so results are cached: up to CacheSize of them
// (the cache is emptied when it is full, which costs one parse per user agent and keeps the memory
// bounded whatever clients send).
type Client struct {
	parser    *useragent.Parser
	CacheSize int

	mu    sync.RWMutex
	cache map[string]*event.ClientInfo
}

// DefaultUACacheSize bounds the user agents a [Client] remembers.
const DefaultUACacheSize = 4096

// maxUserAgent is the longest user agent parsed; longer ones are cut first, because a header is
// the client's to make as long as API Gateway lets it.
const maxUserAgent = 1024

// sharedParser builds the parser's trie once per process: it takes a few milliseconds.
var sharedParser = sync.OnceValue(useragent.NewParser)

// NewClient returns a client enrichment with the library's built-in definitions.
func NewClient() *Client {
	return &Client{parser: sharedParser(), CacheSize: DefaultUACacheSize, cache: map[string]*event.ClientInfo{}}
}

// Name implements [Enricher].
func (*Client) Name() string { return "client" }

// Enrich implements [Enricher].
func (c *Client) Enrich(it *Item) error {
	if it.Context == nil || it.Context.UserAgent == "" {
		return nil
	}
	it.Enrichment.Client = c.Parse(it.Context.UserAgent)
	return nil
}

// Parse returns what ua says about the client. The result is shared: callers must not change it.
func (c *Client) Parse(ua string) *event.ClientInfo {
	c.mu.RLock()
	info, ok := c.cache[ua]
	c.mu.RUnlock()
	if ok {
		return info
	}
	s := ua
	if len(s) > maxUserAgent {
		s = s[:maxUserAgent]
	}
	p := c.parser.Parse(s)
	info = &event.ClientInfo{
		Browser:        string(p.Browser()),
		BrowserVersion: p.BrowserVersion(),
		OS:             string(p.OS()),
		Device:         strings.ToLower(string(p.Device())),
		Bot:            p.IsBot() || p.Device() == agents.DeviceBot,
	}
	if info.Device == "" {
		info.Device = "unknown"
	}
	c.mu.Lock()
	if len(c.cache) >= c.CacheSize {
		clear(c.cache)
	}
	c.cache[ua] = info
	c.mu.Unlock()
	return info
}
