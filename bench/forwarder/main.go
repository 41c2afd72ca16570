// A TCP forwarder and nothing else, for bench/edge-variants.ts: every connection accepted on the
// first address is copied both ways to the second (Go's io.Copy, which splices TCP to TCP on
// Linux). It stands for "any process in front of Caddy" beside HAProxy.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: forwarder <listen host:port> <upstream host:port>")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go forward(c.(*net.TCPConn), os.Args[2])
	}
}

func forward(client *net.TCPConn, upstream string) {
	defer client.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	server := u.(*net.TCPConn)
	defer server.Close()
	go func() {
		_, _ = io.Copy(server, client)
		_ = server.CloseWrite()
	}()
	_, _ = io.Copy(client, server)
}
