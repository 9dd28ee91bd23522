package lambda

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// traceProxy gives the function the trace header of its invocation. Lambda passes the caller's
// X-Ray header to the runtime as Lambda-Runtime-Trace-Id on the next-invocation response
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-next); the
// emulator, outside its Lambda Managed Instances mode, drops the X-Amzn-Trace-Id of an invoke.
// The proxy stands between the function and the emulator's Runtime API and adds the header to
// each next-invocation response; the function reaches it through a wrapper bootstrap that points
// AWS_LAMBDA_RUNTIME_API at the proxy, since the emulator sets that variable itself.
type traceProxy struct {
	srv       *http.Server
	dir       string
	bootstrap string // the wrapper to run instead of the function's bootstrap

	mu     sync.Mutex
	header string // the header of the invocation in flight
}

func startTraceProxy(runtimeAPI, bootstrap string) (*traceProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the Runtime API proxy: %w", err)
	}
	p := &traceProxy{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: runtimeAPI})
	rp.ModifyResponse = func(r *http.Response) error {
		if strings.HasSuffix(r.Request.URL.Path, "/runtime/invocation/next") {
			p.mu.Lock()
			if p.header != "" {
				r.Header.Set("Lambda-Runtime-Trace-Id", p.header)
			}
			p.mu.Unlock()
		}
		return nil
	}
	p.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	if p.dir, err = os.MkdirTemp("", "firelane-traced-"); err != nil {
		p.close()
		return nil, err
	}
	abs, err := filepath.Abs(bootstrap)
	if err != nil {
		p.close()
		return nil, err
	}
	p.bootstrap = filepath.Join(p.dir, "bootstrap")
	script := fmt.Sprintf("#!/bin/sh\nAWS_LAMBDA_RUNTIME_API=%s exec '%s' \"$@\"\n", l.Addr().String(), strings.ReplaceAll(abs, "'", `'\''`))
	if err := os.WriteFile(p.bootstrap, []byte(script), 0o755); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// set makes h the header of the next invocations; a nil proxy ignores it.
func (p *traceProxy) set(h string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.header = h
	p.mu.Unlock()
}

func (p *traceProxy) close() {
	if p == nil {
		return
	}
	_ = p.srv.Close()
	if p.dir != "" {
		_ = os.RemoveAll(p.dir)
	}
}
