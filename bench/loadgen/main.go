// The benchmark's load generator: vegeta's attack engine (github.com/tsenart/vegeta/v12/lib,
// the version scripts/build-vegeta.sh pins) with one change, the source address of each new
// connection. The vegeta CLI binds every connection to one -laddr; the rendered edge allows an
// untrusted source address at most 100 new connections per 10 s (render/haproxy.ts EDGE_LIMITS),
// so new-connection load from one address is refused by design. Here each new connection takes
// the next address of -sources in turn, as many clients would.
//
// Everything else is what `vegeta attack -rate=0 -workers=N -max-workers=N -http2=false
// -session-tickets=false -keepalive=K -connect-to=… -root-certs=… -cert=… -key=… -timeout=…`
// sets up, and the output is `vegeta report -type=json` of the results, plus a "sources" object:
// how many addresses were used and the most new connections any one of them made.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// parseSources reads "a.b.c.d" or "a.b.c.d-e.f.g.h" items, comma separated (IPv4 only).
func parseSources(spec string) ([]net.IP, error) {
	var out []net.IP
	for _, item := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(item), "-")
		a := net.ParseIP(lo).To4()
		b := a
		if isRange {
			b = net.ParseIP(hi).To4()
		}
		if a == nil || b == nil {
			return nil, fmt.Errorf("bad source %q (IPv4 address or range a-b)", item)
		}
		for n, m := binary.BigEndian.Uint32(a), binary.BigEndian.Uint32(b); n <= m; n++ {
			ip := make(net.IP, 4)
			binary.BigEndian.PutUint32(ip, n)
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no source addresses")
	}
	return out, nil
}

func main() {
	url := flag.String("url", "", "the target URL (GET)")
	sourcesSpec := flag.String("sources", "", "source addresses for new connections, in turn: a.b.c.d[-e.f.g.h][,…]")
	workers := flag.Uint64("workers", 1, "workers (closed loop: -rate=0, as many workers as -max-workers)")
	duration := flag.Duration("duration", 3*time.Second, "duration of the attack")
	timeout := flag.Duration("timeout", 10*time.Second, "request timeout")
	keepalive := flag.Bool("keepalive", true, "reuse connections")
	connectTo := flag.String("connect-to", "", "host:port:ip:port, as vegeta's -connect-to")
	rootCerts := flag.String("root-certs", "", "PEM file of the server's CA")
	certFile := flag.String("cert", "", "client certificate (PEM)")
	keyFile := flag.String("key", "", "client key (PEM)")
	flag.Parse()
	if err := run(*url, *sourcesSpec, *workers, *duration, *timeout, *keepalive, *connectTo, *rootCerts, *certFile, *keyFile); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(url, sourcesSpec string, workers uint64, duration, timeout time.Duration, keepalive bool, connectTo, rootCerts, certFile, keyFile string) error {
	sources, err := parseSources(sourcesSpec)
	if err != nil {
		return err
	}
	// TLS as vegeta's tlsConfig builds it: the server's CA, the client certificate if any.
	tlsc := &tls.Config{}
	if rootCerts != "" {
		pem, err := os.ReadFile(rootCerts)
		if err != nil {
			return err
		}
		tlsc.RootCAs = x509.NewCertPool()
		if !tlsc.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate in %s", rootCerts)
		}
	}
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		tlsc.Certificates = []tls.Certificate{c}
	}

	// The dialer vegeta sets up (TCP keep-alive probes off without HTTP keep-alive), bound to the
	// next source address for every new connection.
	var next atomic.Uint64
	var mu sync.Mutex
	dials := make(map[string]int, len(sources))
	tcpKeepAlive := 30 * time.Second
	if !keepalive {
		tcpKeepAlive = 0
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		src := sources[(next.Add(1)-1)%uint64(len(sources))]
		mu.Lock()
		dials[src.String()]++
		mu.Unlock()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, KeepAlive: tcpKeepAlive}
		return d.DialContext(ctx, network, addr)
	}
	// vegeta's transport, HTTP/1.1 only (-http2=false), no session tickets (-session-tickets=false).
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         dial,
			TLSClientConfig:     tlsc,
			DisableKeepAlives:   !keepalive,
			MaxIdleConnsPerHost: vegeta.DefaultConnections,
			ForceAttemptHTTP2:   false,
			TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		},
	}
	opts := []func(*vegeta.Attacker){
		vegeta.Client(client),
		vegeta.Redirects(vegeta.DefaultRedirects),
		vegeta.Timeout(timeout),
		vegeta.Workers(workers),
		vegeta.MaxWorkers(workers),
		vegeta.MaxBody(vegeta.DefaultMaxBody),
	}
	if connectTo != "" {
		// host:port:ip:port → dial ip:port for host:port.
		parts := strings.Split(connectTo, ":")
		if len(parts) != 4 {
			return fmt.Errorf("bad -connect-to %q", connectTo)
		}
		opts = append(opts, vegeta.ConnectTo(map[string][]string{parts[0] + ":" + parts[1]: {parts[2] + ":" + parts[3]}}))
	}
	atk := vegeta.NewAttacker(opts...)
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	var m vegeta.Metrics
	for res := range atk.Attack(targeter, vegeta.Rate{Freq: 0}, duration, "bench") {
		m.Add(res)
	}
	m.Close()
	out := report{Metrics: &m}
	out.Sources.Addresses = len(dials)
	out.Sources.Connections = int(next.Load())
	for _, n := range dials {
		out.Sources.MostFromOneAddress = max(out.Sources.MostFromOneAddress, n)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// report is `vegeta report -type=json` plus how the new connections were spread over the sources.
type report struct {
	*vegeta.Metrics
	Sources struct {
		Addresses          int `json:"addresses"`
		Connections        int `json:"connections"`
		MostFromOneAddress int `json:"most_from_one_address"`
	} `json:"sources"`
}
