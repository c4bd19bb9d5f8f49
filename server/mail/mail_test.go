package mail_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/mailtest"
)

func sender(t *testing.T, cfg mail.Config) *mail.Sender {
	t.Helper()
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Non-ASCII subjects and names travel RFC 2047-encoded and arrive as written;
// a line break in user-influenced text cannot start a header of its own.
func TestMailEncodesNonASCIIHeaders(t *testing.T) {
	mp := mailtest.Start(t)
	s := sender(t, mail.Config{Addr: mp.SMTPAddr, From: "Bâton Coach <baton@example.com>"})
	subject := "Bald fällig: „Führen ohne Weisung“ – Überzeugen statt anordnen, ein Modul für Produktmanagerinnen 🚀"
	err := s.Send(context.Background(), mail.Message{
		To: "zoe@example.com", ToName: "Zoë Ångström-Łukasiewicz", Subject: subject,
		Body: "Grüße, Zoë!\nÖffne Baton, um weiterzumachen.",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mail.Message{
		To: "zoe@example.com", Subject: "Hello\r\nBcc: intruder@example.com", Body: "x",
	}); err != nil {
		t.Fatal(err)
	}
	msgs := mp.WaitFor(t, 2, 10*time.Second)
	m := msgs[0]
	if m.Subject != subject {
		t.Errorf("subject %q, want %q", m.Subject, subject)
	}
	if len(m.To) != 1 || m.To[0].Name != "Zoë Ångström-Łukasiewicz" || m.To[0].Address != "zoe@example.com" {
		t.Errorf("to %+v", m.To)
	}
	if m.From.Name != "Bâton Coach" || m.From.Address != "baton@example.com" {
		t.Errorf("from %+v", m.From)
	}
	if !strings.Contains(m.Text, "Grüße, Zoë!") || !strings.Contains(m.Text, "Öffne Baton") {
		t.Errorf("text %q", m.Text)
	}
	raw := mp.Raw(t, m.ID)
	header, _, _ := strings.Cut(raw, "\r\n\r\n")
	for i := 0; i < len(header); i++ {
		if header[i] >= 0x80 {
			t.Fatalf("raw header has 8-bit text, not RFC 2047 words:\n%s", header)
		}
	}
	if !strings.Contains(header, "=?UTF-8?") {
		t.Errorf("no encoded words in header:\n%s", header)
	}
	if strings.Contains(strings.ToLower(header), "go-mail") || !strings.Contains(header, "User-Agent: Baton") {
		t.Errorf("the mail names the library instead of Baton:\n%s", header)
	}

	injected := msgs[1]
	if injected.Subject != "Hello Bcc: intruder@example.com" || len(injected.To) != 1 {
		t.Errorf("line break in subject: %+v", injected)
	}
	if header, _, _ := strings.Cut(mp.Raw(t, injected.ID), "\r\n\r\n"); strings.Contains(header, "\nBcc:") {
		t.Errorf("subject started a header:\n%s", header)
	}
}

// Username and password are sent when configured.
func TestMailAuthenticates(t *testing.T) {
	mp := mailtest.Start(t)
	s := sender(t, mail.Config{Addr: mp.SMTPAddr, From: "baton@example.com", Username: "baton", Password: "secret"})
	if err := s.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if m := mp.WaitFor(t, 1, 10*time.Second)[0]; m.Username != "baton" {
		t.Fatalf("sent as %q, want baton", m.Username)
	}
}

// A server that accepts the connection and then says nothing holds a send
// only as long as its context.
func TestMailSendHonoursContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 8)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conns <- conn // held open, never answered
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for {
			select {
			case c := <-conns:
				c.Close()
			default:
				return
			}
		}
	})
	s := sender(t, mail.Config{Addr: l.Addr().String(), From: "baton@example.com"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, mail.Message{To: "a@example.com", Subject: "s", Body: "b"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("send took %s after its context ended", d)
	}
}

func TestMailRefusesUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := sender(t, mail.Config{Addr: addr, From: "baton@example.com"})
	if err := s.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "s", Body: "b"}); err == nil {
		t.Fatal("sent to a closed port")
	}
}

func TestMailConfig(t *testing.T) {
	for _, cfg := range []mail.Config{
		{Addr: "localhost", From: "baton@example.com"},
		{Addr: "localhost:no-such-service", From: "baton@example.com"},
		{Addr: "localhost:0", From: "baton@example.com"},
		{Addr: "localhost:70000", From: "baton@example.com"},
		{Addr: "localhost:25", From: "not an address"},
	} {
		if _, err := mail.New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if (mail.Config{Addr: "localhost:25"}).Enabled() || !(mail.Config{Addr: "localhost:25", From: "a@b.c"}).Enabled() {
		t.Error("Enabled needs both an address and a sender")
	}
	sender(t, mail.Config{Addr: "localhost:smtp", From: "Baton <baton@example.com>"})
	s := sender(t, mail.Config{Addr: "localhost:25", From: "baton@example.com"})
	if err := s.Send(context.Background(), mail.Message{To: "no address", Subject: "s"}); err == nil {
		t.Error("sent to an invalid recipient")
	}
}
