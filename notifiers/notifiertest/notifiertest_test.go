package notifiertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/story"
)

// fakeTB records failures instead of failing the real test. Fatal ends the
// goroutine it is called on, as testing.T's does, so run the helper under test
// with run.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.mu.Lock()
	f.fatal = true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func run(fn func(tb *fakeTB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestJSONEqEqual(t *testing.T) {
	f := run(func(tb *fakeTB) {
		JSONEq(tb, `{"a":1,"b":[true,null,"x"],"c":{"d":2.5}}`, "{ \"c\": {\"d\": 2.50}, \"b\": [true, null, \"x\"],\n \"a\": 1.0 }")
	})
	if len(f.errors) != 0 {
		t.Errorf("JSONEq failed on equal JSON: %v", f.errors)
	}
}

func TestJSONEqDiff(t *testing.T) {
	f := run(func(tb *fakeTB) {
		JSONEq(tb,
			`{"story":{"summary":"a"},"terms":["x","y"],"rules":[],"n":1}`,
			`{"story":{"summary":"b"},"terms":["x"],"rules":null,"n":2,"extra":true}`)
	})
	if len(f.errors) != 1 {
		t.Fatalf("got %d failures, want 1: %v", len(f.errors), f.errors)
	}
	for _, want := range []string{
		`$.story.summary: want "a", got "b"`,
		`$.terms[1]: missing, want "y"`,
		`$.rules: want [], got null`,
		`$.n: want 1, got 2`,
		`$.extra: unexpected true`,
	} {
		if !strings.Contains(f.errors[0], want) {
			t.Errorf("failure lacks %q:\n%s", want, f.errors[0])
		}
	}
}

func TestJSONEqInvalid(t *testing.T) {
	f := run(func(tb *fakeTB) { JSONEq(tb, `{"a":1}`, `{"a":`) })
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "got is not JSON") {
		t.Errorf("failures = %v, want one saying got is not JSON", f.errors)
	}
}

// hidden reads clean but wraps an error that does not.
type hidden struct{ inner error }

func (h hidden) Error() string { return "clean" }
func (h hidden) Unwrap() error { return h.inner }

func TestAssertNoSecretLeak(t *testing.T) {
	const secret = "tok en/1"
	tests := []struct {
		name      string
		err       error
		wantFails int
		wantFatal bool
	}{
		{name: "clean", err: errors.New("post: connection refused")},
		{name: "as written", err: errors.New("post http://h/" + secret), wantFails: 1},
		{name: "query escaped", err: errors.New("post http://h/?t=tok+en%2F1"), wantFails: 1},
		{name: "path escaped", err: errors.New("post http://h/tok%20en%2F1"), wantFails: 1},
		{name: "only in a wrapped error", err: fmt.Errorf("send: %w", hidden{errors.New(secret)}), wantFails: 1},
		{name: "in one of joined errors", err: errors.Join(errors.New("a"), hidden{errors.New(secret)}), wantFails: 1},
		{name: "nil error", err: nil, wantFails: 1, wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := run(func(tb *fakeTB) { AssertNoSecretLeak(tb, tt.err, secret) })
			if (len(f.errors) >= 1) != (tt.wantFails >= 1) || f.fatal != tt.wantFatal {
				t.Errorf("failures = %q (fatal %v), want %d (fatal %v)", f.errors, f.fatal, tt.wantFails, tt.wantFatal)
			}
		})
	}
}

func post(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(url, "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestReceiverScript(t *testing.T) {
	r := NewReceiver(t)
	r.Respond(Response{Status: 201})
	r.Fail(503, 2)
	r.SetDefault(Response{Status: 202})

	var got []int
	for range 5 {
		resp, _ := post(t, r.URL()+"/a/b?x=1")
		got = append(got, resp.StatusCode)
	}
	if want := []int{201, 503, 503, 202, 202}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reqs, err := r.Wait(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	req := reqs[0]
	if req.Method != "POST" || req.Path != "/a/b" || req.RawQuery != "x=1" ||
		req.Header.Get("Content-Type") != "text/plain" || string(req.Body) != "hello" {
		t.Errorf("request = %+v", req)
	}
}

func TestReceiverFirstAnswer(t *testing.T) {
	r := NewReceiver(t)
	r.Respond(Response{Header: http.Header{"X-Test": {"1"}}, Body: "made"})
	resp, body := post(t, r.URL())
	if resp.StatusCode != 200 || resp.Header.Get("X-Test") != "1" || body != "made" {
		t.Errorf("answer = %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

func TestReceiverWaitEndsWithContext(t *testing.T) {
	r := NewReceiver(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

func TestReceiverHold(t *testing.T) {
	r := NewReceiver(t)
	release := make(chan struct{})
	r.Respond(Response{Status: 204, Hold: release})

	answered := make(chan int, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(r.URL())
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-answered:
		t.Fatalf("answered %d before release", code)
	default:
	}
	close(release)
	if code := <-answered; code != 204 {
		t.Errorf("status = %d, want 204", code)
	}
}

func TestClosedURLRefuses(t *testing.T) {
	_, err := (&http.Client{Timeout: 10 * time.Second}).Get(ClosedURL(t))
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Get = %v, want connection refused", err)
	}
}

func TestBuilders(t *testing.T) {
	s := Story(func(s *story.Story) { s.ID = "s9" })
	if s.ID != "s9" || s.Title == "" || s.Published.IsZero() {
		t.Errorf("Story = %+v", s)
	}
	a := Alert(func(a *notifiers.Alert) { a.Target = "team-slack:#ai" })
	if a.ID != 42 || a.Target != "team-slack:#ai" || a.Story == nil || a.Story.ID != "s1" || len(a.Rules) != 1 {
		t.Errorf("Alert = %+v", a)
	}
	if b := Alert(); b.Story == a.Story {
		t.Error("alerts share one story")
	}
}
