package email

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// maxSubject is the longest subject, in characters, before the prefix.
const maxSubject = 200

//go:embed templates
var templateFS embed.FS

// html/template escapes every value for where it stands (text, attribute,
// URL), so untrusted text cannot add markup or a javascript: link.
var (
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(htmltemplate.FuncMap{"runs": notifiers.Runs}).
			ParseFS(templateFS, "templates/*.html"))
	textTemplates = texttemplate.Must(texttemplate.New("").ParseFS(templateFS, "templates/*.txt"))
)

// Mail is an alert as an e-mail: its subject, a plain-text body and an HTML
// body saying the same.
type Mail struct {
	Subject string
	Text    string
	HTML    string
}

// view is what the templates are given.
type view struct {
	notifiers.Message
	Title string
}

// Render writes an alert as an e-mail: one story with its summary, source,
// date and rules; a digest as a list of linked stories with their summaries.
func Render(a *notifiers.Alert, prefix string) (Mail, error) {
	m := notifiers.Compose(a)
	v := view{Message: m, Title: story.Cut(m.Subject(), maxSubject)}
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, "mail.txt", v); err != nil {
		return Mail{}, err
	}
	if err := htmlTemplates.ExecuteTemplate(&html, "mail.html", v); err != nil {
		return Mail{}, err
	}
	subject := prefix + v.Title
	if m.Kind == store.KindFollowUp && len(m.Stories) > 0 {
		// Mail clients that thread by subject, as well as by References,
		// see the first alert's subject with "Re:".
		subject = "Re: " + prefix + story.Cut(m.Stories[0].Title, maxSubject)
	}
	return Mail{Subject: subject, Text: strings.TrimSpace(text.String()) + "\n", HTML: html.String()}, nil
}
