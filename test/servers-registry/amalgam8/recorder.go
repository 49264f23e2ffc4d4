// Records what Amalgam8's own registry server answers to the requests in requests.json and
// writes them, with the answers, to exchanges.json: the fixture Weft's registry replays
// (../amalgam8-compat.test.ts). Run through ./record.sh, which builds this program inside an
// amalgam8/amalgam8 checkout (GOPATH mode, its vendored dependencies), because the server
// packages cannot be imported from outside that tree.
//
// The server is the one registry/registry.go Run() builds for `registry` with no flags: the
// in-memory store, the default authenticator, TTL default 30 s clamped to [10 s, 10 min] —
// except the namespace capacity, set to CAPACITY so the 403 path is reachable.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/Sirupsen/logrus"

	"github.com/amalgam8/amalgam8/pkg/auth"
	"github.com/amalgam8/amalgam8/registry/server"
	"github.com/amalgam8/amalgam8/registry/store"
	"github.com/amalgam8/amalgam8/registry/utils/i18n"
)

// CAPACITY is the namespace capacity of the recorded server.
const CAPACITY = 8

type exchange struct {
	Name     string            `json:"name"`
	Source   string            `json:"source"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Headers  map[string]string `json:"headers,omitempty"`
	Body     *string           `json:"body,omitempty"`
	Compare  string            `json:"compare,omitempty"`
	Weft     json.RawMessage   `json:"weft,omitempty"`
	Response *response         `json:"response,omitempty"`
}

type response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

type script struct {
	Note      string     `json:"note"`
	Recorded  string     `json:"recorded,omitempty"`
	Exchanges []exchange `json:"exchanges"`
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: recorder <messages dir> <requests.json> <exchanges.json>")
		os.Exit(2)
	}
	logrus.SetLevel(logrus.PanicLevel)
	must(i18n.LoadLocales(os.Args[1]))

	raw, err := ioutil.ReadFile(os.Args[2])
	must(err)
	var s script
	must(json.Unmarshal(raw, &s))

	port := freePort()
	conf := &store.Config{
		DefaultTTL:        30 * time.Second,
		MinimumTTL:        10 * time.Second,
		MaximumTTL:        10 * time.Minute,
		SyncWaitTime:      30 * time.Second,
		NamespaceCapacity: CAPACITY,
		Store:             "inmem",
	}
	srv, err := server.New(&server.Config{
		HTTPAddressSpec: fmt.Sprintf("127.0.0.1:%d", port),
		CatalogMap:      store.New(conf),
		Authenticator:   auth.DefaultAuthenticator(),
	})
	must(err)
	go func() { _ = srv.Start() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitUp(base)

	// No Accept-Encoding (the server would gzip), no redirects followed: the bytes as sent.
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for i := range s.Exchanges {
		x := &s.Exchanges[i]
		var body *bytes.Reader
		if x.Body != nil {
			body = bytes.NewReader([]byte(*x.Body))
		} else {
			body = bytes.NewReader(nil)
		}
		req, err := http.NewRequest(x.Method, base+x.Path, body)
		must(err)
		if x.Body == nil {
			req.Body = nil
			req.ContentLength = 0
		}
		for k, v := range x.Headers {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		must(err)
		b, err := ioutil.ReadAll(res.Body)
		must(err)
		_ = res.Body.Close()
		headers := map[string]string{}
		keys := make([]string, 0, len(res.Header))
		for k := range res.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "Date" {
				continue
			}
			headers[k] = res.Header.Get(k)
		}
		x.Response = &response{Status: res.StatusCode, Headers: headers, Body: string(b)}
	}
	s.Recorded = fmt.Sprintf("recorded from amalgam8/amalgam8 registry/server at %s, %s", os.Getenv("A8_COMMIT"), time.Now().UTC().Format(time.RFC3339))
	out, err := json.MarshalIndent(&s, "", "  ")
	must(err)
	must(ioutil.WriteFile(os.Args[3], append(out, '\n'), 0o644))
	srv.Stop()
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitUp(base string) {
	for i := 0; i < 200; i++ {
		if res, err := http.Get(base + "/"); err == nil {
			_ = res.Body.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	must(fmt.Errorf("the registry never came up on %s", base))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
