package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wirewatch/wirewatch/store"
)

// chromium finds a Chromium or Chrome to drive. Without one the browser
// tests skip, except under CI (CI set), where they fail: CI installs
// Debian's chromium package.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal("no chromium on PATH, and CI is set: install Debian's chromium package (apt-get install -y chromium)")
	}
	t.Skip("no chromium on PATH: browser tests skipped (install Debian's chromium package to run them)")
	return ""
}

// browser is one headless Chromium tab with a console watcher.
type browser struct {
	t    *testing.T
	ctx  context.Context
	shot string // where screenshots go

	mu      sync.Mutex
	console []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, shot: t.TempDir()}
	if dir := os.Getenv("WIREWATCH_SCREENSHOTS"); dir != "" {
		b.shot = dir
	}
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	cctx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(cctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m.String())
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		stopConsole()
		<-done
		cancelTab()
		cancelAlloc()
	})
	t.Logf("screenshots go to %s", b.shot)
	return b
}

// do runs steps with a time limit.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\nconsole: %v", err, b.messages())
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds (no sleeps: the page
// is asked on every animation frame).
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond)); err != nil {
		state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + ' | ' + (document.querySelector('#query')?.value ?? '') + ' | ' + (document.querySelector('main')?.innerText ?? '').slice(0, 600)`))
		b.t.Fatalf("waiting for %s (%s): %v\npage: %s\nconsole: %v", what, cond, err, state, b.messages())
	}
}

// screenshot saves the whole page as name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shot, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

func (b *browser) messages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.console)
}

// TestBrowser drives the dashboard in headless Chromium as a person would:
// the overview, adding a source, writing a rule while the preview follows,
// a syntax error with its caret, saving, and retrying a failed alert.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	e.seed()
	b := newBrowser(t)
	base := e.srv.URL

	// The overview.
	b.do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("outbox-depth")))
	b.waitFor("the chart", `document.querySelectorAll('figure.chart rect').length > 0`)
	if got := eval[string](b, `document.querySelector('h1').textContent`); got != "Overview" {
		t.Fatalf("overview h1 %q", got)
	}
	if !eval[bool](b, `typeof htmx === 'object' && htmx.version.startsWith('2.')`) {
		t.Fatal("htmx 2 did not load")
	}
	b.screenshot("overview")

	// Add a source.
	b.do(chromedp.Navigate(base+"/sources"), chromedp.WaitVisible(chromedp.ID("src-url")))
	b.screenshot("sources")
	b.do(chromedp.SendKeys(chromedp.ID("src-url"), e.feeds.URL+"/feed.xml"),
		chromedp.Click(chromedp.CSS(`#add-source button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if h1 := eval[string](b, `document.querySelector('h1').textContent`); h1 != "Seal News" {
		t.Fatalf("after adding: h1 %q", h1)
	}
	b.screenshot("source")

	// Write a rule: the preview follows the typing.
	b.do(chromedp.Navigate(base+"/rules/new"), chromedp.WaitVisible(chromedp.ID("query")))
	b.do(chromedp.SendKeys(chromedp.ID("query"), "nvidia"))
	b.waitFor("24 matches", `document.querySelector('#preview-total')?.textContent === '24'`)
	marks := eval[[]string](b, `Array.from(document.querySelectorAll('#preview-stories mark')).map(m => m.textContent)`)
	if len(marks) == 0 || !slices.Contains(marks, "Nvidia") {
		t.Fatalf("highlights %v", marks)
	}
	b.do(chromedp.SendKeys(chromedp.ID("query"), " -stock"))
	b.waitFor("16 matches", `document.querySelector('#preview-total')?.textContent === '16'`)
	// 16 alerts over the 29 days since the oldest stored story was fetched.
	if rate := eval[string](b, `document.querySelector('#preview-rate').textContent`); rate != "0.6" {
		t.Fatalf("alerts a day %q", rate)
	}
	// An unbalanced quote: the caret points at it.
	b.do(chromedp.SendKeys(chromedp.ID("query"), ` "export`))
	caret := strings.Repeat(" ", 14) + "^"
	b.waitFor("the caret", fmt.Sprintf(`document.querySelector('#caret')?.textContent === %q`, caret))
	if reason := eval[string](b, `document.querySelector('#query-error-reason').textContent`); !strings.Contains(reason, "unclosed quote") {
		t.Fatalf("error reason %q", reason)
	}
	b.screenshot("rule-error")
	eval[bool](b, `(document.querySelector('#query').value = '', true)`)
	b.do(chromedp.SendKeys(chromedp.ID("query"), "nvidia -stock export*"))
	b.waitFor("8 matches", `document.querySelector('#preview-total')?.textContent === '8' && !document.querySelector('#caret')`)
	marks = eval[[]string](b, `Array.from(document.querySelectorAll('#preview-stories mark')).map(m => m.textContent.toLowerCase())`)
	if !slices.Contains(marks, "export") || !slices.Contains(marks, "nvidia") {
		t.Fatalf("highlights after the edit %v", marks)
	}
	b.screenshot("rule-editor")
	// Save it; it is listed.
	b.do(chromedp.SendKeys(chromedp.ID("rule-name"), "nvidia-exports"),
		chromedp.SendKeys(chromedp.ID("rule-notify"), "console"),
		chromedp.Click(chromedp.ID("save-rule")),
		chromedp.WaitVisible(chromedp.ID("rules-table")))
	b.waitFor("the saved rule", `Array.from(document.querySelectorAll('#rules-table td a')).some(a => a.textContent === 'nvidia-exports')`)
	b.screenshot("rules")
	rules, err := e.st.Rules(t.Context())
	if err != nil || !slices.ContainsFunc(rules, func(r store.Rule) bool { return r.Name == "nvidia-exports" && r.Query == "nvidia -stock export*" }) {
		t.Fatalf("stored rules %+v, %v", rules, err)
	}

	// Retry a failed alert.
	id := e.failedAlert()
	b.do(chromedp.Navigate(base+"/alerts"), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#alert-%d button.retry", id))))
	b.screenshot("alerts")
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf("#alert-%d button.retry", id))), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	b.waitFor("the alert pending", fmt.Sprintf(`document.querySelector('#alert-%d .badge').textContent === 'pending'`, id))
	ds, err := e.st.Deliveries(t.Context(), store.DeliveryQuery{Status: store.StatusFailed})
	if err != nil || len(ds) != 0 {
		t.Fatalf("failed deliveries after retry: %v, %v", ds, err)
	}

	// Why / why not, and the hostile title shown as text.
	b.do(chromedp.Navigate(base+"/stories/s01"), chromedp.WaitVisible(chromedp.CSS("ul.verdicts")))
	b.screenshot("story")
	b.do(chromedp.Navigate(base+"/stories/evil"), chromedp.WaitVisible(chromedp.ID("story-title")))
	if title := eval[string](b, `document.querySelector('#story-title').textContent`); title != hostile {
		t.Fatalf("hostile title shown as %q", title)
	}
	if eval[int](b, `document.querySelectorAll('main script, main img').length`) != 0 {
		t.Fatal("the hostile title made elements")
	}

	// The dark theme follows prefers-color-scheme.
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	}), chromedp.Navigate(base+"/rules/new?q="+url.QueryEscape("nvidia china")), chromedp.WaitVisible(chromedp.ID("preview-total")))
	if bg := eval[string](b, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 18, 22)" {
		t.Fatalf("dark theme background %s", bg)
	}
	b.screenshot("rule-editor-dark")

	for _, m := range b.messages() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "exception") {
			t.Errorf("browser console: %s", m)
		}
	}
}

// TestBrowserLogin logs in through the form with a token.
func TestBrowserLogin(t *testing.T) {
	e := newEnv(t, token)
	b := newBrowser(t)
	b.do(chromedp.Navigate(e.srv.URL+"/rules"), chromedp.WaitVisible(chromedp.ID("token")))
	b.screenshot("login")
	b.do(chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("rules-table")))
	if loc := eval[string](b, `location.pathname`); loc != "/rules" {
		t.Fatalf("after login at %s", loc)
	}
	if eval[string](b, `document.cookie`) != "" {
		t.Fatal("the session cookie is readable from JavaScript")
	}
}
