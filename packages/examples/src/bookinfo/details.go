// bookinfo's details service, in Go (standard library only): the book's publication details.
// GET /health, GET /details/<id>. Listens on 127.0.0.1:$PORT.
package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
)

type details struct {
	ID        string `json:"id"`
	Author    string `json:"author"`
	Year      int    `json:"year"`
	Type      string `json:"type"`
	Pages     int    `json:"pages"`
	Publisher string `json:"publisher"`
	Language  string `json:"language"`
	ISBN10    string `json:"ISBN-10"`
	ISBN13    string `json:"ISBN-13"`
}

func main() {
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	http.HandleFunc("/details/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		json.NewEncoder(w).Encode(details{
			ID:        strings.TrimPrefix(r.URL.Path, "/details/"),
			Author:    "William Shakespeare",
			Year:      1595,
			Type:      "paperback",
			Pages:     200,
			Publisher: "PublisherA",
			Language:  "English",
			ISBN10:    "1234567890",
			ISBN13:    "123-1234567890",
		})
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
