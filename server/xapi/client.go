package xapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config is the LRS Baton sends to (BATON_XAPI_*).
type Config struct {
	// Endpoint is the statements resource's parent, e.g. http://lrs/xAPI;
	// empty turns xAPI off.
	Endpoint string
	Username string
	Password string
	// Mbox names actors by their email address instead of their account.
	Mbox bool
}

// Enabled says whether an LRS is configured.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// Check validates the configuration for start-up.
func (c Config) Check() error {
	if !c.Enabled() {
		return nil
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("BATON_XAPI_ENDPOINT %q must be an http:// or https:// address such as https://lrs.example.com/xAPI", c.Endpoint)
	}
	if (c.Username == "") != (c.Password == "") {
		return fmt.Errorf("BATON_XAPI_USERNAME and BATON_XAPI_PASSWORD go together: set both or neither")
	}
	return nil
}

// client speaks the statements resource of one LRS.
type client struct {
	cfg  Config
	http *http.Client
}

func newClient(cfg Config) *client {
	return &client{cfg: cfg, http: &http.Client{Timeout: 30 * time.Second}}
}

// statusError is an LRS answer other than success; 400 says the statement
// is invalid, anything else that the LRS cannot take it now.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("LRS answered %d: %s", e.status, e.body) }

func (c *client) do(ctx context.Context, method, query string, body any) (int, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.cfg.Endpoint, "/")+"/statements"+query, bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	if c.cfg.Username != "" {
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
	if res.StatusCode/100 == 2 {
		return res.StatusCode, nil
	}
	return res.StatusCode, &statusError{status: res.StatusCode, body: strings.TrimSpace(string(msg))}
}

// post sends a batch in one request.
func (c *client) post(ctx context.Context, batch []Statement) (int, error) {
	return c.do(ctx, http.MethodPost, "", batch)
}

// put stores one statement under its id. 409 means the LRS already holds
// a statement with this id (a different one: an identical one answers 204).
func (c *client) put(ctx context.Context, s Statement) (int, error) {
	return c.do(ctx, http.MethodPut, "?statementId="+url.QueryEscape(s.ID), s)
}
