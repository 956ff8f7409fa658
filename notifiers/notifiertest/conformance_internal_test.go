package notifiertest

import "testing"

// The suite's checks must fail what a careless notifier would send.
func TestInertRefusesActiveText(t *testing.T) {
	tests := []struct {
		f    Field
		fail bool
	}{
		{Field{Text: Hostile}, false},
		{Field{Text: Hostile, Mentions: true}, true},
		{Field{Text: "@\u2060everyone", Mentions: true}, false},
		{Field{Text: "&lt;script&gt;alert(1)&lt;/script&gt; <b>x</b>", Syntax: HTML}, false},
		{Field{Text: "<script>alert(1)</script>", Syntax: HTML}, true},
		{Field{Text: `<a href="javascript:alert(1)">x</a>`, Syntax: HTML}, true},
		{Field{Text: `<b onclick="x()">y</b>`, Syntax: HTML}, true},
		{Field{Text: `\*\*bold\*\* \[click\]\(x\)`, Syntax: Markdown}, false},
		{Field{Text: "**bold**", Syntax: Markdown}, true},
		{Field{Text: "[click](https://evil.example/)", Syntax: Markdown}, true},
		{Field{Text: "&lt;!channel&gt; <https://a.example/|a>", Syntax: Mrkdwn}, false},
		{Field{Text: "<!channel>", Syntax: Mrkdwn}, true},
		{Field{Text: "bad \xff", Syntax: Plain}, true},
	}
	for _, tt := range tests {
		if err := inert(tt.f); (err != nil) != tt.fail {
			t.Errorf("inert(%q, syntax %d) = %v, want failure %v", tt.f.Text, tt.f.Syntax, err, tt.fail)
		}
	}
}

func TestWholeRefusesSplitEscapes(t *testing.T) {
	tests := []struct {
		f    Field
		fail bool
	}{
		{Field{Text: "a &amp; b &#39; &lt;", Syntax: HTML}, false},
		{Field{Text: "a &am…", Syntax: HTML}, true},
		{Field{Text: "a & b", Syntax: HTML}, true},
		{Field{Text: `<a href="x`, Syntax: HTML}, true},
		{Field{Text: `a \* b \\ c`, Syntax: Markdown}, false},
		{Field{Text: `a \`, Syntax: Markdown}, true},
		{Field{Text: `a \b`, Syntax: Markdown}, true},
		{Field{Text: "a &amp; &lt; &gt;", Syntax: Mrkdwn}, false},
		{Field{Text: "a &am", Syntax: Mrkdwn}, true},
	}
	for _, tt := range tests {
		if err := whole(tt.f); (err != nil) != tt.fail {
			t.Errorf("whole(%q, syntax %d) = %v, want failure %v", tt.f.Text, tt.f.Syntax, err, tt.fail)
		}
	}
}
