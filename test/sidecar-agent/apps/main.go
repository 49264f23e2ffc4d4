// A Go service on the mesh: /hello, and /call/<service>/<path> through its sidecar (SIDECAR_URL).
// Its arguments are ignored: the test passes a marker to find the process in /proc.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("APP_PORT")
	proxy := os.Getenv("SIDECAR_URL")
	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from go") })
	http.HandleFunc("/call/", func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(proxy + "/" + r.URL.Path[len("/call/"):])
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	})
	http.ListenAndServe("127.0.0.1:"+port, nil)
}
