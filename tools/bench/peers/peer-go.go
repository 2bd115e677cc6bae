// peer-go: the benchmark's Go peer, written the way a Go programmer
// would write a quick HTTP scanner with the standard library: N worker
// goroutines pulling URLs from a channel, one shared http.Client, one
// writer goroutine.
//
// usage: peer-go -c N -t SECONDS [--cafile PATH] FILE
//
// FILE ("-" is stdin) holds one URL per line; blank lines are skipped.
// Writes one JSON line per URL on stdout, in completion order:
//
//	{"input":"URL","status":200}  or  {"input":"URL","error":"timeout"}
//
// Build (Go 1.19, std lib only): go build -o peer-go peer-go.go
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

const userAgent = "hscan-bench-peer-go/1"

type record struct {
	Input  string `json:"input"`
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// classify turns a client error into the short vocabulary all peers
// share.
func classify(err error) string {
	var dnsErr *net.DNSError
	var unkAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certInv x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var nerr net.Error

	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &nerr) && nerr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE),
		strings.Contains(err.Error(), "too many open files"):
		// net.DNSError keeps only the text of a failed socket().
		return "too many open files"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connect refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.As(err, &unkAuth),
		errors.As(err, &hostErr), errors.As(err, &certInv),
		errors.As(err, &recErr):
		return "tls"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local port"
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if strings.Contains(err.Error(), "tls:") ||
		strings.Contains(err.Error(), "HTTP response to HTTPS client") {
		return "tls"
	}
	return err.Error()
}

func probe(client *http.Client, target string) record {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return record{Input: target, Error: "bad url"}
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return record{Input: target, Error: classify(err)}
	}
	// Only the head matters. With keep-alives off, Close drops the
	// connection instead of draining the body.
	resp.Body.Close()
	return record{Input: target, Status: resp.StatusCode}
}

func newClient(timeout time.Duration, cafile string) (*http.Client, error) {
	tlsCfg := &tls.Config{}
	if cafile != "" {
		pem, err := os.ReadFile(cafile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificates", cafile)
		}
		tlsCfg.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout: timeout,
		}).DialContext,
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: timeout,
		DisableKeepAlives:   true,
		DisableCompression:  true,
		MaxIdleConnsPerHost: -1,
		MaxConnsPerHost:     0,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

func main() {
	conc := flag.Int("c", 100, "requests in flight")
	secs := flag.Float64("t", 10, "per-target budget in seconds")
	cafile := flag.String("cafile", "", "PEM CA bundle to trust")
	flag.Parse()
	if flag.NArg() != 1 || *conc < 1 || *secs <= 0 {
		fmt.Fprintln(os.Stderr, "usage: peer-go -c N -t SECONDS [--cafile PATH] FILE")
		os.Exit(2)
	}
	var in io.Reader = os.Stdin
	if name := flag.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peer-go:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	client, err := newClient(time.Duration(*secs*float64(time.Second)), *cafile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer-go:", err)
		os.Exit(2)
	}

	start := time.Now()
	jobs := make(chan string, *conc)
	results := make(chan record, *conc)
	var done sync.WaitGroup
	var nTotal, nOK int

	writerDone := make(chan struct{})
	go func() {
		w := bufio.NewWriterSize(os.Stdout, 1<<16)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for r := range results {
			nTotal++
			if r.Error == "" {
				nOK++
			}
			enc.Encode(r)
		}
		w.Flush()
		close(writerDone)
	}()

	for i := 0; i < *conc; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			for target := range jobs {
				results <- probe(client, target)
			}
		}()
	}

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" {
			jobs <- line
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "peer-go: reading input:", err)
	}
	close(jobs)
	done.Wait()
	close(results)
	<-writerDone

	el := time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "peer-go: %d targets, %d ok, %.2f s, %.0f/s\n",
		nTotal, nOK, el, float64(nTotal)/el)
}
