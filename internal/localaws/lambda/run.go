// Package lambda stands in for AWS Lambda: it runs a function's bootstrap on this machine the way sam local invoke runs it in
// its container: built for the host with the flags of the deployed build, started under the AWS
// Lambda Runtime Interface Emulator (pinned in go.mod as a tool) on 127.0.0.1, with the environment
// that template.yaml gives the function, and invoked over the emulator's HTTP API.
//
// The emulator: https://github.com/aws/aws-lambda-runtime-interface-emulator and
// https://docs.aws.amazon.com/lambda/latest/dg/images-test.html; the runtime environment variables:
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
package lambda

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EmulatorPackage is the Runtime Interface Emulator's main package, a tool of go.mod.
const EmulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// PackageOf returns the main package directory of a template function: IngestFunction is
// ./functions/ingest, as the Makefile's build-<LogicalId> targets build it.
func PackageOf(logicalID string) string {
	return "./functions/" + strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

// Build compiles a function's main package for this machine into dir/bootstrap, with the flags of
// the deployed build (static, lambda.norpc, and tags, such as otel for the Makefile's
// TRACING=otel), from the module at root.
func Build(ctx context.Context, root, pkg, dir string, tags ...string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", strings.Join(append([]string{"lambda.norpc"}, tags...), ","), "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// BuildEmulator compiles the Runtime Interface Emulator at go.mod's pinned version into dir.
func BuildEmulator(ctx context.Context, root, dir string) (string, error) {
	out := filepath.Join(dir, "aws-lambda-rie")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, EmulatorPackage)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the runtime interface emulator: %w\n%s", err, b)
	}
	return out, nil
}

// Config describes one function instance.
type Config struct {
	Emulator  string            // path of the aws-lambda-rie binary
	Bootstrap string            // path of the function's bootstrap
	Name      string            // function name (AWS_LAMBDA_FUNCTION_NAME)
	Env       map[string]string // the function's environment from the template, plus overrides
	MemoryMB  int               // AWS_LAMBDA_FUNCTION_MEMORY_SIZE (128 when zero)
	Timeout   time.Duration     // the function timeout (30 s when zero)
	Logs      io.Writer         // where the function's and the emulator's output goes (discarded when nil)
	// Traced passes the trace header of [Instance.InvokeTraced] to the function, which the
	// emulator itself drops (see traceproxy.go).
	Traced bool
}

// Instance is a running emulator with its function.
type Instance struct {
	URL string // the invoke URL

	cmd   *exec.Cmd
	done  chan struct{}
	mu    sync.Mutex
	peak  int64 // highest VmHWM seen, in KiB
	trace *traceProxy
}

// freePort returns a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the emulator on two free loopback ports (its invoke API and the Runtime API, so that
// instances can run side by side) and waits until it listens.
func Start(ctx context.Context, cfg Config) (*Instance, error) {
	listen, err := freePort()
	if err != nil {
		return nil, err
	}
	runtimeAPI, err := freePort()
	if err != nil {
		return nil, err
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = 128
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Name == "" {
		cfg.Name = "function"
	}
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_LAMBDA_FUNCTION_NAME": cfg.Name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cfg.MemoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int(cfg.Timeout / time.Second)),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + cfg.Name, "AWS_LAMBDA_LOG_STREAM_NAME": "local",
		"_HANDLER": "bootstrap", "TZ": ":UTC", "LANG": "en_US.UTF-8",
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"),
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	bootstrap := cfg.Bootstrap
	var tp *traceProxy
	if cfg.Traced {
		if tp, err = startTraceProxy(fmt.Sprintf("127.0.0.1:%d", runtimeAPI), cfg.Bootstrap); err != nil {
			return nil, err
		}
		bootstrap = tp.bootstrap
	}
	cmd := exec.Command(cfg.Emulator,
		"--log-level", "error",
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", listen),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", runtimeAPI),
		bootstrap)
	cmd.Dir = filepath.Dir(cfg.Bootstrap)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := cfg.Logs
	if logs == nil {
		logs = io.Discard
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tp.close()
		return nil, fmt.Errorf("start the runtime interface emulator: %w", err)
	}
	in := &Instance{URL: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", listen), cmd: cmd, done: make(chan struct{}), trace: tp}
	go func() { _ = cmd.Wait(); close(in.done) }()
	addr := fmt.Sprintf("127.0.0.1:%d", listen)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return in, nil
		}
		select {
		case <-in.done:
			return nil, fmt.Errorf("runtime interface emulator exited at start")
		case <-ctx.Done():
			in.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			in.Stop()
			return nil, fmt.Errorf("runtime interface emulator did not listen on %s", addr)
		}
	}
}

// FunctionError is a function's error answer, as Lambda reports it with X-Amz-Function-Error.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// Error implements error.
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Result is one invocation's outcome.
type Result struct {
	Payload  []byte         // the function's response, or its error object
	Err      *FunctionError // set when the function failed the invocation
	Duration time.Duration
}

// Invoke posts one event and returns the function's answer. A function error is a Result with
// Err set; an error return means the emulator could not run the invocation.
func (in *Instance) Invoke(ctx context.Context, payload []byte) (Result, error) {
	return in.InvokeTraced(ctx, payload, "")
}

// InvokeTraced is [Instance.Invoke] with an X-Ray trace header (none when empty), which the
// function receives as the invocation's Lambda-Runtime-Trace-Id, as Lambda passes the header of
// the service that invoked it (API Gateway's segment, say). The function must have been started
// with [Config.Traced] for a header to reach it.
func (in *Instance) InvokeTraced(ctx context.Context, payload []byte, traceHeader string) (Result, error) {
	in.trace.set(traceHeader)
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL, bytes.NewReader(payload))
	if err != nil {
		return Result{}, err
	}
	if traceHeader != "" {
		req.Header.Set("X-Amzn-Trace-Id", traceHeader)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Result{}, fmt.Errorf("read the invocation's answer: %w", err)
	}
	in.samplePeak()
	res := Result{Payload: body, Duration: time.Since(start)}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("runtime interface emulator answered HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	if fe := asFunctionError(resp.Header, body); fe != nil {
		res.Err = fe
	}
	return res, nil
}

// asFunctionError recognises an error answer: the X-Amz-Function-Error header when the emulator
// sets it, else a body that is exactly Lambda's error object.
func asFunctionError(h http.Header, body []byte) *FunctionError {
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil {
		return nil
	}
	var fe FunctionError
	_ = json.Unmarshal(body, &fe)
	if h.Get("X-Amz-Function-Error") != "" {
		if fe.Type == "" {
			fe.Type = h.Get("X-Amz-Function-Error")
		}
		return &fe
	}
	_, hasType := probe["errorType"]
	_, hasMsg := probe["errorMessage"]
	for k := range probe {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" {
			return nil
		}
	}
	if hasType && hasMsg {
		return &fe
	}
	return nil
}

// PeakMemoryMB returns the function process's peak resident memory (VmHWM from /proc), which the
// emulator's own "Max Memory Used" does not measure; 0 when unknown.
func (in *Instance) PeakMemoryMB() float64 {
	in.samplePeak()
	in.mu.Lock()
	defer in.mu.Unlock()
	return float64(in.peak) / 1024
}

// FunctionPID returns the process ID of the function's bootstrap, which the emulator starts at the
// first invocation; 0 before then.
func (in *Instance) FunctionPID() int {
	if c := children(in.cmd.Process.Pid); len(c) > 0 {
		return c[0]
	}
	return 0
}

func (in *Instance) samplePeak() {
	for _, pid := range children(in.cmd.Process.Pid) {
		if kb := vmHWM(pid); kb > 0 {
			in.mu.Lock()
			in.peak = max(in.peak, kb)
			in.mu.Unlock()
		}
	}
}

// children lists the child processes of pid from /proc/PID/task/*/children.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// Stop ends the emulator and its function (its whole process group) and waits for it.
func (in *Instance) Stop() {
	if in == nil || in.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
		<-in.done
	}
	in.trace.close()
}

// ErrNoFunction is returned when the template has no function with the requested logical ID.
var ErrNoFunction = errors.New("no such function in the template")
