package mailtest_test

import (
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/mailtest"
)

// Mailpit starts, receives what a plain SMTP client sends, reports it
// through its API and is gone once the test that started it ends.
func TestMailpitReceivesAndStops(t *testing.T) {
	var addr string
	t.Run("running", func(t *testing.T) {
		mp := mailtest.Start(t)
		addr = mp.SMTPAddr
		if n := mp.Count(t); n != 0 {
			t.Fatalf("fresh Mailpit holds %d messages", n)
		}
		msg := "From: a@example.com\r\nTo: Bea <b@example.com>\r\nSubject: hello\r\n\r\nbody line\r\n"
		if err := smtp.SendMail(addr, nil, "a@example.com", []string{"b@example.com"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		got := mp.WaitFor(t, 1, 10*time.Second)
		if len(got) != 1 || got[0].Subject != "hello" || got[0].To[0].Name != "Bea" || strings.TrimSpace(got[0].Text) != "body line" {
			t.Fatalf("received %+v", got)
		}
	})
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("Mailpit still listens on %s after its test ended", addr)
	}
}
