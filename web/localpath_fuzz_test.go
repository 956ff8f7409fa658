package web

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzLocalPath checks the login form's next= on any input (issue 12, item
// 7): the result is the input or "/", and what a browser makes of it (tabs
// and newlines dropped, backslashes read as slashes) is still a path on this
// server.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/rules?x=1", "/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example",
		"https://evil.example/", "/%09/evil.example", "/\u00a0/evil.example", "/\u200b/x", "/a/../..//evil", "/?next=//evil", "/#//evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := localPath(p)
		if got != "/" && got != p {
			t.Fatalf("localPath(%q) = %q: neither the input nor /", p, got)
		}
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		u, err := url.Parse(browser)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(browser, "/") || strings.HasPrefix(browser, "//") {
			t.Fatalf("localPath(%q) = %q, which a browser reads as %q: not a local path", p, got, browser)
		}
	})
}
