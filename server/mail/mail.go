// Package mail delivers plain-text email through an SMTP server. It knows
// nothing of what the mail is about: callers hand it a recipient, a subject
// and a body, and it encodes headers (RFC 2047 for non-ASCII text), upgrades
// to TLS when the server offers STARTTLS and bounds every delivery in time.
package mail

import (
	"context"
	"fmt"
	"net"
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Config says which SMTP server to deliver through and as whom.
type Config struct {
	Addr     string // host:port
	From     string // an address, optionally with a display name: "Baton <baton@example.com>"
	Username string // optional: PLAIN authentication when set
	Password string
}

// Enabled reports whether email is configured.
func (c Config) Enabled() bool { return c.Addr != "" && c.From != "" }

// Timeout bounds one delivery, dial to QUIT, so an unresponsive mail server
// cannot hold a sender for long.
const Timeout = 15 * time.Second

// Message is one plain-text mail to one recipient.
type Message struct {
	To      string // the address
	ToName  string // optional display name
	Subject string
	Body    string
}

// Sender delivers messages through one SMTP server. It is safe for
// concurrent use: every delivery has its own connection.
type Sender struct {
	host string
	opts []gomail.Option
	from *netmail.Address
}

// New checks cfg and builds its Sender.
func New(cfg Config) (*Sender, error) {
	host, portText, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mail: address %q is not host:port", cfg.Addr)
	}
	port, err := net.LookupPort("tcp", portText) // a number or a service name, as net.Dial takes
	if err != nil || port < 1 {
		return nil, fmt.Errorf("mail: %q has no usable port", cfg.Addr)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", cfg.From, err)
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
		gomail.WithTimeout(Timeout),
	}
	if cfg.Username != "" {
		// PLAIN is refused over an unencrypted connection to anything but
		// localhost, so a missing STARTTLS never leaks the password.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return &Sender{host: host, opts: opts, from: from}, nil
}

// Send delivers m and returns once the server accepted it. It gives up when
// ctx ends or the delivery takes longer than Timeout.
func (s *Sender) Send(ctx context.Context, m Message) error {
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	to.Name = oneLine(m.ToName)
	msg := gomail.NewMsg()
	msg.SetUserAgent("Baton") // not go-mail's default, which names the library and its version
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(oneLine(m.Subject))
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)

	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	client, err := gomail.NewClient(s.host, append(slices.Clip(s.opts), gomail.WithDialContextFunc(dialer(ctx)))...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("mail: %w: %w", ctxErr, err)
		}
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}

// dialer connects and ties the connection to ctx: go-mail heeds a context
// only while dialling, so closing the connection when ctx ends is what stops
// a server that stalls mid-conversation.
func dialer(ctx context.Context) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}
}

// oneLine keeps text (module titles, names) to one header line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
}
