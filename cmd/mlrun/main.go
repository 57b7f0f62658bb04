package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// secondSignal is closed by a second Ctrl-C (or SIGTERM): the first one
// cancels the command's context, the second makes mlrun run kill its
// step at once instead of waiting out the grace period.
var secondSignal = make(chan struct{})

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		<-sigs
		close(secondSignal)
	}()
	app := newApp()
	if err := app.RunContext(ctx, permute(app, os.Args)); err != nil {
		code := 1
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "mlrun: "+msg)
		}
		os.Exit(code)
	}
}
