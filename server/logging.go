package main

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
)

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
