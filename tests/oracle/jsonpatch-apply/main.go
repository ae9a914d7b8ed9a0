// Command jsonpatch-apply applies an RFC 6902 JSON Patch to a JSON document with
// github.com/evanphx/json-patch (the v4 API, as Debian ships it), the library the Kubernetes
// API server applies admission webhook patches with. Tests use it as an oracle for the
// patches coco-webhook emits and for its own applier.
//
// Usage: jsonpatch-apply DOC.json PATCH.json
//
//	exit 0: the patched document, compact JSON (Go's encoding: object keys sorted), and a
//	        newline on stdout
//	exit 1: the patch does not apply (or is not a JSON Patch); the error on stderr
//	exit 2: usage error, an unreadable file, or a document that is not JSON; on stderr
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	jsonpatch "github.com/evanphx/json-patch"
)

// apply does what the API server's mutating dispatcher does with a webhook's patch:
// DecodePatch, then Apply to the compact JSON of the object. A panic inside the library
// fails the request there too, so it is reported as a failure to apply.
func apply(doc, patchJSON []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out = nil
			err = fmt.Errorf("json-patch panicked: %v", r)
		}
	}()
	patch, err := jsonpatch.DecodePatch(patchJSON)
	if err != nil {
		return nil, err
	}
	return patch.Apply(doc)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: jsonpatch-apply DOC.json PATCH.json")
		os.Exit(2)
	}
	doc, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	patchJSON, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// The API server hands Apply compact JSON; Apply looks at the first byte to tell an
	// array from an object, so leading whitespace in a file would mislead it.
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		fmt.Fprintf(os.Stderr, "%s: not JSON: %v\n", os.Args[1], err)
		os.Exit(2)
	}
	out, err := apply(compact.Bytes(), patchJSON)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s\n", out)
}
