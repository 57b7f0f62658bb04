// Command noopserver serves the yardstick of the small write workloads
// (internal/load/noop) in a process of its own, so that loadgen can set a
// server's rate beside what this machine serves at most on the same HTTP
// stack, over the same loopback:
//
//	go run ./internal/noopserver -addr 127.0.0.1:5001             # the no-op handler
//	go run ./internal/noopserver -addr 127.0.0.1:5001 -flush DIR  # each answer after a group commit that fsyncs a block in DIR
//	go run ./internal/loadgen -url http://127.0.0.1:5001 -c 20 -d 5s -w create-run,log-param-10
//
// It answers create-run, log-batch-10, log-param, log-param-10 and
// log-param-10-again; it stops on an interrupt.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/mlrun/mlrun/internal/load/noop"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5001", "address to listen on")
	dir := flag.String("flush", "", "answer each request after a group commit that writes and fsyncs a 4 KiB block of a file in this folder (the ceiling for durable writes); empty: answer at once")
	flag.Parse()
	if err := serve(*addr, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "noopserver:", err)
		os.Exit(1)
	}
}

func serve(addr, dir string) error {
	var wait func() error
	if dir != "" {
		fl, err := noop.NewFlusher(dir)
		if err != nil {
			return err
		}
		defer fl.Close()
		wait = fl.Wait
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("serving the no-op handler on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: noop.Handler(wait)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
