package docker

import (
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/mlrun/mlrun/runner"
)

// forwarder accepts connections on one address and pipes each to a
// target: it lets a container reach a server on the host's loopback.
type forwarder struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
}

// forward listens on host:0 (the bridge gateway) and forwards to target.
func forward(host, target string) (*forwarder, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("%w: listen on the docker bridge %s: %v", runner.ErrBackendUnavailable, host, err)
	}
	f := &forwarder{ln: ln, target: target}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

// Addr is host:port of the listening side.
func (f *forwarder) Addr() string { return f.ln.Addr().String() }

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			t, err := net.Dial("tcp", f.target)
			if err != nil {
				return
			}
			defer t.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(t, c); done <- struct{}{} }()
			go func() { io.Copy(c, t); done <- struct{}{} }()
			<-done
		}()
	}
}

// Close stops accepting; a nil forwarder is a no-op.
func (f *forwarder) Close() {
	if f == nil {
		return
	}
	f.ln.Close()
	f.wg.Wait()
}
