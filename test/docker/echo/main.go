// The engine tests' stand-in for every managed service (and cloudflared): a static HTTP server
// that answers with its name, the Host header and X-Forwarded-For as JSON, streams chunks on
// /stream, and doubles as a network probe (`echo probe host:port`) so the segmentation tests can
// tell "no such name", "refused", "unreachable" and "timed out" apart without guessing from a
// tool's wording; `lookup` and `get` resolve and fetch as a Go program (Caddy) would, and
// `tlsget` fetches over HTTPS as Gatus (a Go program) does, with an optional client certificate.
// Standard library only; built with CGO_ENABLED=0.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "probe":
			os.Exit(probe(os.Args[2:]))
		case "lookup":
			os.Exit(lookup(os.Args[2:]))
		case "get":
			os.Exit(get(os.Args[2:]))
		case "tlsget":
			os.Exit(tlsget(os.Args[2:]))
		}
	}
	name := os.Getenv("ECHO_NAME")
	listen := os.Getenv("ECHO_LISTEN")
	// Flags come from the container's command; anything else (cloudflared's "tunnel run") is ignored.
	for i := 1; i+1 < len(os.Args); i++ {
		switch os.Args[i] {
		case "-name":
			name = os.Args[i+1]
			i++
		case "-listen":
			listen = os.Args[i+1]
			i++
		}
	}
	if name == "" {
		name, _ = os.Hostname()
	}
	if listen == "" {
		listen = ":8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		n := intParam(r, "n", 10, 1, 100)
		ms := intParam(r, "ms", 300, 10, 2000)
		w.Header().Set("Content-Type", "text/plain")
		flusher, _ := w.(http.Flusher)
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, "chunk %d from %s\n", i, name)
			if flusher != nil {
				flusher.Flush()
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Duration(ms) * time.Millisecond):
			}
		}
		fmt.Fprintln(w, "done")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var xff any
		if v := r.Header.Get("X-Forwarded-For"); v != "" {
			xff = v
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"service": name, "host": r.Host, "xff": xff, "remote": r.RemoteAddr, "path": r.URL.Path})
	})
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "echo %s listening on %s\n", name, listen)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func intParam(r *http.Request, key string, def, lo, hi int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(key))
	if err != nil || v < lo || v > hi {
		return def
	}
	return v
}

// lookup name: prints the addresses the name resolves to (through /etc/hosts and the container's
// DNS, as a Go program such as Caddy does), or "noname" and the error.
func lookup(args []string) int {
	if len(args) != 1 {
		fmt.Println("error usage: lookup name")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, args[0])
	if err != nil {
		fmt.Printf("noname %v\n", err)
		return 1
	}
	sort.Strings(addrs)
	fmt.Println(strings.Join(addrs, " "))
	return 0
}

// get url: one bounded HTTP GET; prints the status code and the body.
func get(args []string) int {
	if len(args) != 1 {
		fmt.Println("error usage: get url")
		return 2
	}
	return fetch(&http.Client{Timeout: 5 * time.Second}, args[0])
}

// fetch: one GET with the client; prints the status code and the body, or "error" and the reason.
func fetch(client *http.Client, url string) int {
	res, err := client.Get(url)
	if err != nil {
		fmt.Printf("error %v\n", err)
		return 1
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	fmt.Printf("%d %s", res.StatusCode, body)
	return 0
}

// probe host:port [timeout-ms]: prints one word (connected, noname, refused, unreachable,
// timeout, error) and the detail; exits 0 only when connected.
func probe(args []string) int {
	if len(args) < 1 {
		fmt.Println("error usage: probe host:port [timeout-ms]")
		return 2
	}
	timeout := 3000
	if len(args) > 1 {
		if v, err := strconv.Atoi(args[1]); err == nil && v > 0 && v <= 30000 {
			timeout = v
		}
	}
	c, err := net.DialTimeout("tcp", args[0], time.Duration(timeout)*time.Millisecond)
	if err == nil {
		c.Close()
		fmt.Println("connected")
		return 0
	}
	var dnsErr *net.DNSError
	var netErr net.Error
	word := "error"
	switch {
	case errors.As(err, &dnsErr):
		// Not found, or no answer at all: either way the name does not lead anywhere.
		word = "noname"
	case errors.Is(err, syscall.ECONNREFUSED):
		word = "refused"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		word = "unreachable"
	case errors.As(err, &netErr) && netErr.Timeout():
		word = "timeout"
	}
	fmt.Printf("%s %v\n", word, err)
	return 1
}

// tlsget [-addr host:port] [-ca file] [-cert file -key file] url: one bounded HTTPS GET as a Go
// program makes it (the name resolved through /etc/nsswitch.conf and /etc/hosts, then DNS, unless
// -addr says where to connect), verifying the server against -ca; prints the status code and the
// body, or "error" and the reason.
func tlsget(args []string) int {
	var addr, ca, cert, key string
	for len(args) > 1 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-addr":
			addr = args[1]
		case "-ca":
			ca = args[1]
		case "-cert":
			cert = args[1]
		case "-key":
			key = args[1]
		default:
			fmt.Printf("error unknown flag %s\n", args[0])
			return 2
		}
		args = args[2:]
	}
	if len(args) != 1 {
		fmt.Println("error usage: tlsget [-addr host:port] [-ca file] [-cert file -key file] url")
		return 2
	}
	cfg := &tls.Config{}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			fmt.Printf("error %v\n", err)
			return 2
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		cfg.RootCAs = pool
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			fmt.Printf("error %v\n", err)
			return 2
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	transport.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		if addr != "" {
			a = addr
		}
		return dialer.DialContext(ctx, network, a)
	}
	return fetch(&http.Client{Timeout: 8 * time.Second, Transport: transport}, args[0])
}
