// tls-floor (Go): what one TLS handshake costs Go's crypto/tls, with no
// sockets; the counterpart of tls-floor.c.
//
// usage: tls-floor-go [N]
//
// Makes a P-256 CA and a P-256 leaf it signs (SAN tls-floor.test), then
// runs N handshakes between a crypto/tls client and server joined by
// net.Pipe: TLS 1.3, the default curves and ciphers, the client
// verifying the chain against the CA and the name (as peer-go does with
// --cafile), then one small request and response. No session
// resumption. Prints one line:
//
//	impl=go version=go1.19.8 n=N client_ms=X pair_ms=Y
//
// client_ms is the CPU time of the client's OS thread (the main
// goroutine, locked to it) per handshake; pair_ms is the process's
// whole CPU time per handshake (both sides, the runtime, the GC). Run
// it with GOMAXPROCS=1 on one core, as bench.py --tls-floor does.
//
// Build (Go 1.19, std lib only): go build -o tls-floor-go tls-floor.go
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

const name = "tls-floor.test"

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "tls-floor-go: %s: %v\n", what, err)
	os.Exit(1)
}

// threadCPU is CLOCK_THREAD_CPUTIME_ID of the calling OS thread.
func threadCPU() float64 {
	var ts syscall.Timespec
	_, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3,
		uintptr(unsafe.Pointer(&ts)), 0)
	if e != 0 {
		die("clock_gettime", e)
	}
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}

func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		die("getrusage", err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func main() {
	runtime.LockOSThread()
	n := 1000
	if len(os.Args) > 1 {
		var err error
		if n, err = strconv.Atoi(os.Args[1]); err != nil || n < 1 {
			die("N", err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		die("key", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		die("key", err)
	}
	now := time.Now()
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1),
		Subject:   pkix.Name{CommonName: "tls-floor CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl,
		&caKey.PublicKey, caKey)
	if err != nil {
		die("CA certificate", err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafTpl := &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject:   pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{name}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTpl, ca,
		&key.PublicKey, caKey)
	if err != nil {
		die("leaf certificate", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	scfg := &tls.Config{SessionTicketsDisabled: true,
		Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER},
			PrivateKey: key}}}
	ccfg := &tls.Config{RootCAs: pool, ServerName: name}
	req := []byte("GET / HTTP/1.1\r\nHost: " + name + "\r\n\r\n")
	rsp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

	p0, t0 := processCPU(), threadCPU()
	for i := 0; i < n; i++ {
		c, s := net.Pipe()
		done := make(chan error, 1)
		go func() {
			ss := tls.Server(s, scfg)
			buf := make([]byte, 512)
			_, err := ss.Read(buf) // runs the handshake first
			if err == nil {
				_, err = ss.Write(rsp)
			}
			done <- err
		}()
		cs := tls.Client(c, ccfg)
		if err := cs.Handshake(); err != nil {
			die("client handshake", err)
		}
		if _, err := cs.Write(req); err != nil {
			die("client write", err)
		}
		buf := make([]byte, len(rsp))
		if _, err := io.ReadFull(cs, buf); err != nil {
			die("client read", err)
		}
		if err := <-done; err != nil {
			die("server", err)
		}
		// Close the pipe, not the tls.Conn: tls-floor.c frees its SSLs
		// without a close_notify too, and nobody reads the pipe now.
		c.Close()
		s.Close()
	}
	client, pair := threadCPU()-t0, processCPU()-p0
	fmt.Printf("impl=go version=%s n=%d client_ms=%.4f pair_ms=%.4f\n",
		runtime.Version(), n, client*1e3/float64(n), pair*1e3/float64(n))
}
