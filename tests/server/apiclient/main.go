// apiclient: a client that calls the webhook as the Kubernetes API server does, for the
// rollout tests (tests/server/test_rollout.py).
//
// One http.Client with a keep-alive pool (net/http, as the API server's webhook client),
// several goroutines POSTing AdmissionReviews to one service name, never retrying. A
// connection is dialled to one of the endpoints listed in a file, re-read every 100 ms, the
// way kube-proxy sends each new connection of a Service to one of its current endpoints; the
// test changes the file as endpoints propagate. The server's certificate is checked against a
// CA file, as the caBundle of a webhook configuration is.
//
// Usage: apiclient -endpoints FILE -ca FILE -review FILE -stop FILE [-workers N] [-pause D]
//
//	[-status FILE]
//
// Runs until the stop file exists, then prints a JSON summary on stdout.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type endpoints struct {
	mu   sync.Mutex
	list []string
	next int
}

func (e *endpoints) load(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var list []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			list = append(list, l)
		}
	}
	e.mu.Lock()
	e.list = list
	e.mu.Unlock()
}

func (e *endpoints) pick() (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.list) == 0 {
		return "", fmt.Errorf("no endpoints")
	}
	e.next++
	return e.list[e.next%len(e.list)], nil
}

type summary struct {
	OK        int64            `json:"ok"`
	Failed    int64            `json:"failed"`
	Errors    []string         `json:"errors"`
	Dials     int64            `json:"dials"`
	PerTarget map[string]int64 `json:"per_target"`
	MaxMillis int64            `json:"max_ms"`
}

func main() {
	epFile := flag.String("endpoints", "", "file listing HOST:PORT endpoints")
	caFile := flag.String("ca", "", "CA certificate (PEM)")
	reviewFile := flag.String("review", "", "AdmissionReview JSON")
	stopFile := flag.String("stop", "", "stop when this file exists")
	workers := flag.Int("workers", 4, "goroutines posting reviews")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout (timeoutSeconds)")
	pause := flag.Duration("pause", 2*time.Millisecond, "each goroutine's pause between requests")
	statusFile := flag.String("status", "", "file rewritten every 200 ms with the summary so far")
	flag.Parse()

	ca, err := os.ReadFile(*caFile)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	review, err := os.ReadFile(*reviewFile)
	if err != nil {
		panic(err)
	}

	eps := &endpoints{}
	eps.load(*epFile)
	go func() {
		for {
			time.Sleep(100 * time.Millisecond)
			eps.load(*epFile)
		}
	}()

	var sum summary
	sum.PerTarget = map[string]int64{}
	var mu sync.Mutex
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			addr, err := eps.pick()
			if err != nil {
				return nil, err
			}
			atomic.AddInt64(&sum.Dials, 1)
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "localhost"},
		MaxIdleConnsPerHost: 25, // client-go's SetTransportDefaults
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	client := &http.Client{Transport: transport, Timeout: *timeout}
	url := fmt.Sprintf("https://webhook.svc:443/mutate?timeout=%ds", int(timeout.Seconds()))

	if *statusFile != "" {
		go func() {
			for {
				time.Sleep(200 * time.Millisecond)
				mu.Lock()
				out, _ := json.Marshal(&sum)
				mu.Unlock()
				tmp := *statusFile + ".tmp"
				if os.WriteFile(tmp, out, 0o644) == nil {
					os.Rename(tmp, *statusFile)
				}
			}
		}()
	}

	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := os.Stat(*stopFile); err == nil {
					return
				}
				var remote string
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
					remote = i.Conn.RemoteAddr().String()
				}}
				req, _ := http.NewRequestWithContext(
					httptrace.WithClientTrace(context.Background(), trace), "POST", url,
					bytes.NewReader(review))
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				ms := time.Since(start).Milliseconds()
				ok := err == nil && resp.StatusCode == 200 && answered(body)
				mu.Lock()
				if ms > sum.MaxMillis {
					sum.MaxMillis = ms
				}
				if ok {
					sum.OK++
					sum.PerTarget[remote]++
				} else {
					sum.Failed++
					msg := ""
					if err != nil {
						msg = err.Error()
					} else {
						msg = fmt.Sprintf("%d %.200s", resp.StatusCode, body)
					}
					if len(sum.Errors) < 20 {
						sum.Errors = append(sum.Errors, time.Now().Format("15:04:05.000")+" "+msg)
					}
				}
				mu.Unlock()
				time.Sleep(*pause)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	out, _ := json.Marshal(&sum)
	mu.Unlock()
	fmt.Println(string(out))
}

// answered: an AdmissionReview answer that allows the object.
func answered(body []byte) bool {
	var r struct {
		Response struct {
			Allowed bool `json:"allowed"`
		} `json:"response"`
	}
	return json.Unmarshal(body, &r) == nil && r.Response.Allowed
}
