// Drives Amalgam8's own Go registry client (registry/client) against a registry at the URL given
// as the first argument — Weft's, through ./client-check.sh — the way its sidecar's registration
// agent (sidecar/register/registration.go) uses it: register, renew, list, deregister, and on a
// renewal answered "unknown instance" register again. Prints one line per step and exits 1 on
// the first surprise. Built like recorder.go, inside an amalgam8/amalgam8 checkout.
package main

import (
	"fmt"
	"os"

	"github.com/amalgam8/amalgam8/pkg/api"
	"github.com/amalgam8/amalgam8/registry/client"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: client-check <registry URL>")
		os.Exit(2)
	}
	c, err := client.New(client.Config{URL: os.Args[1]})
	check("client.New", err)

	instance := &api.ServiceInstance{
		ServiceName: "reviews",
		Endpoint:    api.ServiceEndpoint{Type: "http", Value: "10.0.0.7:9080"},
		Tags:        []string{"version=v2"},
		TTL:         60, // the sidecar's DefaultTTL
	}
	registered, err := c.Register(instance)
	check("Register", err)
	expect("Register: id", registered.ID != "" && registered.TTL == 60, registered)

	check("Renew", c.Renew(registered.ID))

	services, err := c.ListServices()
	check("ListServices", err)
	expect("ListServices", len(services) == 1 && services[0] == "reviews", services)

	listed, err := c.ListServiceInstances("reviews")
	check("ListServiceInstances", err)
	expect("ListServiceInstances", len(listed) == 1 && listed[0].ID == registered.ID &&
		listed[0].Endpoint.Value == "10.0.0.7:9080" && listed[0].Status == "UP" &&
		len(listed[0].Tags) == 1 && listed[0].TTL == 60 && !listed[0].LastHeartbeat.IsZero(), listed)

	filtered, err := c.ListInstancesWithFilter(client.InstanceFilter{Tags: []string{"version=v2"}, Fields: []string{"tags"}})
	check("ListInstancesWithFilter", err)
	expect("ListInstancesWithFilter", len(filtered) == 1 && filtered[0].ServiceName == "" && filtered[0].Endpoint.Value != "", filtered)

	none, err := c.ListInstancesWithFilter(client.InstanceFilter{Status: "STARTING"})
	check("ListInstancesWithFilter(STARTING)", err)
	expect("ListInstancesWithFilter(STARTING)", len(none) == 0, none)

	check("Deregister", c.Deregister(registered.ID))

	// The registration agent's loop: a renewal of an instance the registry no longer knows is an
	// ErrorCodeUnknownInstance, on which it registers again.
	err = c.Renew(registered.ID)
	cErr, ok := err.(client.Error)
	expect("Renew after Deregister: ErrorCodeUnknownInstance", ok && cErr.Code == client.ErrorCodeUnknownInstance, err)
	again, err := c.Register(instance)
	check("Register again", err)
	expect("Register again: same id", again.ID == registered.ID, again)
	check("Deregister again", c.Deregister(again.ID))

	err = c.Deregister(again.ID)
	cErr, ok = err.(client.Error)
	expect("Deregister twice: ErrorCodeUnknownInstance", ok && cErr.Code == client.ErrorCodeUnknownInstance, err)
	fmt.Println("ok: every step answered as Amalgam8's client expects")
}

func check(step string, err error) {
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", step, err)
		os.Exit(1)
	}
	fmt.Printf("ok   %s\n", step)
}

func expect(step string, cond bool, got interface{}) {
	if !cond {
		fmt.Printf("FAIL %s: got %+v\n", step, got)
		os.Exit(1)
	}
	fmt.Printf("ok   %s\n", step)
}
