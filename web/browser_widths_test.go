package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wirewatch/wirewatch/store"
)

// screens are the widths the dashboard is held to: a laptop and a phone.
var screens = []struct {
	name   string
	w, h   int64
	mobile bool
}{
	{"1280", 1280, 900, false},
	{"390", 390, 844, true},
}

// fitsWidth fails when the page is wider than the viewport: the reader
// would have to scroll sideways.
func (b *browser) fitsWidth(page string) {
	b.t.Helper()
	got := eval[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if got[0] > got[1] {
		wide := eval[string](b, `Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 3).map(e => e.tagName + '#' + e.id + '.' + e.className).join(', ')`)
		b.t.Errorf("%s: page is %d px wide in a %d px viewport (too wide: %s)", page, got[0], got[1], wide)
	}
}

// inView fails unless the element is on screen, where the eye is, without
// scrolling.
func (b *browser) inView(what, selector string) {
	b.t.Helper()
	b.waitFor(what, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false;
		const r = e.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; })()`, selector))
}

// TestBrowserScreens shows every page at 1280 px and at 390 px: none is
// wider than the screen, and each action's feedback lands where the eye is
// (on screen, with the focus on the field at fault). With
// WIREWATCH_SCREENSHOTS=dir set, a screenshot of every page at both widths
// goes to dir, as PAGE-WIDTH.png.
func TestBrowserScreens(t *testing.T) {
	for _, sc := range screens {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t)
			e.seed()
			b := newBrowser(t)
			opts := []chromedp.EmulateViewportOption{}
			if sc.mobile {
				opts = append(opts, chromedp.EmulateMobile)
			}
			b.do(chromedp.EmulateViewport(sc.w, sc.h, opts...))
			base := e.srv.URL
			rules, err := e.st.Rules(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			sources, err := e.st.Sources(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			id := e.failedAlert()
			pages := []struct{ name, path, ready string }{
				{"overview", "/", "#outbox-depth"},
				{"sources", "/sources", "#src-url"},
				{"source", fmt.Sprintf("/sources/%d", sources[1].ID), "#fetch-log-h"},
				{"rules", "/rules", "#rules-table"},
				{"rule-new", "/rules/new?q=" + url.QueryEscape("nvidia (china OR beijing)"), "#preview-total"},
				{"rule-error", "/rules/new?q=" + url.QueryEscape(`nvidia "export controls AND a very long query that goes on`), "#caret"},
				{"rule-config", fmt.Sprintf("/rules/%d", rules[0].ID), "#preview-total"},
				{"source-delete", fmt.Sprintf("/sources/%d/delete", sources[0].ID), "#confirm-button"},
				{"alerts", "/alerts", fmt.Sprintf("#alert-%d", id)},
				{"notifiers", "/notifiers", "#test-target"},
				{"stories", "/stories?q=nvidia", "ol.stories"},
				{"story", "/stories/s01", "ul.verdicts"},
				{"story-hostile", "/stories/evil", "#story-title"},
			}
			for _, p := range pages {
				b.do(chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
				b.fitsWidth(p.name)
				b.screenshot(p.name + "-" + sc.name)
			}
			// The navigation is all on screen: nothing runs off to the right.
			b.do(chromedp.Navigate(base + "/"))
			if off := eval[int](b, `Array.from(document.querySelectorAll('header nav a')).filter(a => a.getBoundingClientRect().right > window.innerWidth).length`); off != 0 {
				t.Errorf("%d navigation links run off screen", off)
			}

			// Adding a bad source: the reason sits by the URL field, on
			// screen, with the focus there.
			b.do(chromedp.Navigate(base+"/sources"), chromedp.WaitVisible(chromedp.ID("src-url")))
			b.do(chromedp.SendKeys(chromedp.ID("src-url"), e.feeds.URL+"/missing.xml"),
				chromedp.Click(chromedp.CSS(`#add-source button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("url-error")))
			b.inView("the URL error", "#url-error")
			if got := eval[string](b, `document.activeElement.id + ' ' + document.activeElement.getAttribute('aria-invalid')`); got != "src-url true" {
				t.Errorf("focus after a bad source: %q, want the URL field, invalid", got)
			}
			if msg := eval[string](b, `document.querySelector('#url-error').textContent`); !strings.Contains(msg, "no page at that address") {
				t.Errorf("URL error %q", msg)
			}
			b.fitsWidth("sources-error")
			b.screenshot("sources-error-" + sc.name)

			// A rule with a target that needs a channel: the reason by the
			// targets; then saved, and its row says so where the page opens.
			b.do(chromedp.Navigate(base+"/rules/new"), chromedp.WaitVisible(chromedp.ID("query")))
			b.do(chromedp.SendKeys(chromedp.ID("query"), "walrus"),
				chromedp.SendKeys(chromedp.ID("rule-notify"), "team-slack"),
				chromedp.Click(chromedp.ID("save-rule")), chromedp.WaitVisible(chromedp.ID("notify-error")))
			b.inView("the targets error", "#notify-error")
			if got := eval[string](b, `document.activeElement.id`); got != "rule-notify" {
				t.Errorf("focus after a bad target: %q", got)
			}
			b.fitsWidth("rule-target-error")
			b.screenshot("rule-target-error-" + sc.name)
			eval[bool](b, `(document.querySelector('#rule-notify').value = '', true)`)
			b.do(chromedp.SendKeys(chromedp.ID("rule-notify"), "team-slack:#walruses"), chromedp.Click(chromedp.ID("save-rule")),
				chromedp.WaitVisible(chromedp.ID("saved-badge")))
			b.inView("the saved rule's mark", "#saved-badge")
			if got := eval[string](b, `location.search + location.hash`); !strings.HasPrefix(got, "?rule=") || !strings.Contains(got, "done=saved#rule-") {
				t.Errorf("after saving at %q", got)
			}
			b.screenshot("rule-saved-" + sc.name)
			if _, err := e.svc.FindRule(t.Context(), "w3"); err != nil {
				t.Errorf("the saved rule: %v", err)
			}

			// A test alert: its state shows at the top of the page.
			b.do(chromedp.Navigate(base+"/notifiers"), chromedp.WaitVisible(chromedp.ID("test-target")))
			b.do(chromedp.SendKeys(chromedp.ID("test-target"), "team-slack:#ops"), chromedp.Click(chromedp.ID("send-test")),
				chromedp.WaitVisible(chromedp.ID("test-status")))
			b.inView("the test alert's state", "#test-status")
			b.fitsWidth("notifiers-tested")
			b.screenshot("notifiers-tested-" + sc.name)
			ds, err := e.st.Deliveries(t.Context(), store.DeliveryQuery{Target: "team-slack:#ops"})
			if err != nil || len(ds) != 1 || ds[0].Kind != store.KindHealth {
				t.Errorf("test alert rows %+v, %v", ds, err)
			}

			// Dark mode: highlighted words in a story's title (a link) keep a
			// contrast of at least 4.5:1 against the highlight.
			b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
				return err
			}), chromedp.Navigate(base+"/rules/new?q="+url.QueryEscape("nvidia china")), chromedp.WaitVisible(chromedp.ID("preview-total")))
			ratio := eval[float64](b, `(() => {
				const m = document.querySelector('#preview-stories a.story-title mark');
				const rgb = s => s.match(/[0-9.]+/g).slice(0, 3).map(Number);
				const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
				const a = lum(rgb(getComputedStyle(m).color)), bg = lum(rgb(getComputedStyle(m).backgroundColor));
				return (Math.max(a, bg) + 0.05) / (Math.min(a, bg) + 0.05); })()`)
			if ratio < 4.5 {
				t.Errorf("dark mode: a highlighted title has contrast %.2f:1, want at least 4.5:1", ratio)
			}
			b.fitsWidth("rule-new-dark")
			b.screenshot("rule-new-dark-" + sc.name)
			b.do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("outbox-depth")))
			b.screenshot("overview-dark-" + sc.name)

			// A bad since: the page stays, the reason by the filters.
			b.do(chromedp.Navigate(base+"/alerts?since=lastweekish"), chromedp.WaitVisible(chromedp.ID("filter-error")))
			b.inView("the filter error", "#filter-error")
			if got := eval[string](b, `document.activeElement.id`); got != "f-since" {
				t.Errorf("focus after a bad since: %q", got)
			}
		})
	}
}

// TestBrowserLoginScreens: the login form at both widths, without the
// navigation of a session it does not have.
func TestBrowserLoginScreens(t *testing.T) {
	for _, sc := range screens {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, token)
			b := newBrowser(t)
			b.do(chromedp.EmulateViewport(sc.w, sc.h), chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")))
			if n := eval[int](b, `document.querySelectorAll('header nav ul, form.logout').length`); n != 0 {
				t.Errorf("the login page shows navigation or log out (%d)", n)
			}
			b.fitsWidth("login")
			b.screenshot("login-" + sc.name)
		})
	}
}
