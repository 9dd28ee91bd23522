package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

var updateConsolePNG = flag.Bool("update-console-png", false, "write the browser test's screenshot to docs/console.png")

// browserPath finds Chromium (the Debian package .ci/run installs) or Chrome.
func browserPath() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium or Chrome on PATH: install it (apt-get install -y chromium chromium-driver, as .ci/run does) to run the console's browser test")
}

// TestConsoleInBrowser opens the console of a running up in headless Chromium: the rejected event
// shows its reason and JSON pointer, the accepted one its lake row (in its forms and in the lake's
// preview), the counts on the page equal the JSON API's, and an event sent while the page is open
// appears without a reload. The screenshot is saved in the test's temporary directory
// (-update-console-png also writes docs/console.png).
func TestConsoleInBrowser(t *testing.T) {
	browser, err := browserPath()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	vars, logs, stop := startUp(t, upOptions{out: t.TempDir(), interval: 300 * time.Millisecond}, 30*time.Second)
	api := vars["CONSOLE_API"]
	page := strings.TrimSuffix(api, "api/")

	good := samplePageView(t, root)
	goodID := good["id"].(string)
	bad := map[string]any{"specversion": "1.0", "id": "bad-browser-1", "source": "/t", "type": good["type"],
		"data": map[string]any{"url": 42}}
	postEvents(t, vars, good, bad)

	var rejected struct{ Events []consoleItem }
	getJSON(t, api+"events?status=rejected", &rejected)
	if len(rejected.Events) != 1 || len(rejected.Events[0].Reasons) == 0 {
		t.Fatalf("got rejected %+v, want bad-browser-1 with its reasons", rejected.Events)
	}
	reasons := rejected.Events[0].Reasons
	var delivered struct{ Events []consoleItem }
	for deadline := time.Now().Add(10 * time.Second); len(delivered.Events) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s was not delivered within 10 s:\n%s", goodID, logs.String())
		}
		getJSON(t, api+"events?status=delivered", &delivered)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1440, 900), chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s in %s: %v", page, browser, err)
	}
	// wait runs a JavaScript predicate until it holds, for at most d.
	wait := func(what, predicate string, d time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, d)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v; the page reads:\n%s", what, err, text)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).innerText`, sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	wait("the page loads and its stream opens", `document.body.dataset.refreshed >= 1 && document.getElementById("live").textContent === "live"`, 10*time.Second)

	t.Run("rejected event shows its reasons", func(t *testing.T) {
		got := text("#list-rejected")
		for _, r := range reasons {
			if !strings.Contains(got, r.Message) || !strings.Contains(got, r.Location) {
				t.Errorf("got rejected list %q, want reason %q at %q", got, r.Message, r.Location)
			}
		}
	})
	t.Run("accepted event shows its lake row", func(t *testing.T) {
		if got := text("#list-delivered"); !strings.Contains(got, goodID) {
			t.Errorf("got delivered list %q, want %s", got, goodID)
		}
		if got := text("#lake-parts"); !strings.Contains(got, `"event_id":"`+goodID+`"`) {
			t.Errorf("got lake preview %q, want the row of %s", got, goodID)
		}
		if err := chromedp.Do(bctx, chromedp.Click(fmt.Sprintf(`#list-delivered .ev[data-id=%q]`, goodID))); err != nil {
			t.Fatal(err)
		}
		wait("the event's forms open", fmt.Sprintf(`!document.getElementById("detail").hidden && document.getElementById("form-row").innerText.includes(%q)`, goodID), 5*time.Second)
		var row map[string]any
		if err := json.Unmarshal([]byte(text("#form-row")), &row); err != nil || row["event_id"] != goodID {
			t.Errorf("got lake row %q (%v), want the row of %s", text("#form-row"), err, goodID)
		}
		var raw map[string]any
		if err := json.Unmarshal([]byte(text("#form-raw")), &raw); err != nil || raw["id"] != goodID {
			t.Errorf("got the event as sent %q (%v), want %s", text("#form-raw"), err, goodID)
		}
		if got := text("#form-enriched"); !strings.Contains(got, goodID) {
			t.Errorf("got enriched record %q, want one of %s", got, goodID)
		}
	})
	t.Run("counts equal the JSON API's", func(t *testing.T) {
		var counts struct{ Events map[string]int }
		getJSON(t, api+"counts", &counts)
		for _, k := range []string{"events", "accepted", "rejected", "delivered", "failed"} {
			got, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById("count-%s").dataset.count`, k)))
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprint(counts.Events[k]); got != want {
				t.Errorf("%s: got %s on the page, want %s as GET counts says", k, got, want)
			}
		}
	})
	t.Run("live update without a reload", func(t *testing.T) {
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void](`window.sameDocument = "yes"`)); err != nil {
			t.Fatal(err)
		}
		late := map[string]any{"specversion": "1.0", "id": "bad-browser-live", "source": "/t", "type": good["type"]}
		postEvents(t, vars, late)
		wait("the event sent after the page opened appears", `document.getElementById("list-rejected").innerText.includes("bad-browser-live") && document.getElementById("count-rejected").dataset.count === "2"`, 5*time.Second)
		if got, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.sameDocument || "reloaded"`)); err != nil || got != "yes" {
			t.Errorf("got %q (%v), want the same document (no reload)", got, err)
		}
	})

	t.Run("keyboard", func(t *testing.T) {
		var late struct{ Events []consoleItem }
		getJSON(t, api+"events?status=rejected&limit=1", &late)
		if len(late.Events) != 1 || late.Events[0].ID != "bad-browser-live" || len(late.Events[0].Reasons) == 0 {
			t.Fatalf("got %+v, want bad-browser-live with its reasons", late.Events)
		}
		// The newest is first: from bad-browser-1, ↑ reaches bad-browser-live, Enter opens it.
		if err := chromedp.Do(bctx, chromedp.Focus(`#list-rejected .ev[data-id="bad-browser-1"]`),
			chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		wait("Enter opens the focused event", `document.getElementById("detail-h").innerText.includes("bad-browser-live") && !document.getElementById("detail-reasons").hidden`, 5*time.Second)
		got := text("#detail-reasons")
		for _, r := range late.Events[0].Reasons {
			if !strings.Contains(got, r.Message) {
				t.Errorf("got reasons %q, want %q", got, r.Message)
			}
		}
		if err := chromedp.Do(bctx, chromedp.KeyEvent(kb.Escape)); err != nil {
			t.Fatal(err)
		}
		wait("Esc closes the event", `document.getElementById("detail").hidden`, 5*time.Second)
	})

	if err := chromedp.Do(bctx, chromedp.Click(fmt.Sprintf(`#list-delivered .ev[data-id=%q]`, goodID))); err != nil {
		t.Fatal(err)
	}
	wait("the delivered event's forms", fmt.Sprintf(`document.getElementById("form-row").innerText.includes(%q)`, goodID), 5*time.Second)
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "console.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	if *updateConsolePNG {
		if err := os.WriteFile(filepath.Join(root, "docs", "console.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cancelBrowser()
	if err := stop(); err != nil {
		t.Fatalf("up: %v\n%s", err, logs.String())
	}
}
