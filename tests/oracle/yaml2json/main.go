// yaml2json: the test oracle for webhook/formats/manifest*.c.
//
// It reads a stream on standard input and prints each document as compact JSON, one per line,
// converting YAML with sigs.k8s.io/yaml (go-yaml v2 underneath), the conversion kubectl uses.
// On bad input it prints the error to standard error, prints no document and exits 1.
//
// Documents are split the way kubectl splits them (k8s.io/apimachinery/pkg/util/yaml
// YAMLReader, re-implemented here because Debian does not ship apimachinery): a line that
// starts with "---" separates documents when only spaces or a comment follow, any other
// text after "---" is an error, and empty runs between separators are no documents.
//
// JSON follows the rules of manifest.h, which keep numbers as written: a stream whose first
// non-space byte is '{' or '[' and which is a sequence of JSON values gives one document per
// value; otherwise a document whose first non-space byte is '{' or '[' and which is one JSON
// value is read as JSON. Anything else goes through sigs.k8s.io/yaml. Text that is JSON but
// holds a number no float64 can hold is an error (not re-read as YAML).
//
// Build offline in GOPATH mode:
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o yaml2json main.go
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err == nil {
		var docs [][]byte
		docs, err = convert(in)
		if err == nil {
			w := bufio.NewWriter(os.Stdout)
			for _, d := range docs {
				w.Write(d)
				w.WriteByte('\n')
			}
			err = w.Flush()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "yaml2json:", err)
		os.Exit(1)
	}
}

func convert(in []byte) ([][]byte, error) {
	if startsJSON(in) {
		docs, err := jsonValues(in)
		if err == nil {
			return docs, nil
		}
		if !isSyntax(err) {
			return nil, err
		}
	}
	chunks, err := splitDocuments(in)
	if err != nil {
		return nil, err
	}
	var docs [][]byte
	for i, c := range chunks {
		if startsJSON(c) {
			d, err := jsonValues(c)
			if err == nil && len(d) == 1 {
				docs = append(docs, d[0])
				continue
			}
			if err != nil && !isSyntax(err) {
				return nil, fmt.Errorf("document %d: %v", i, err)
			}
		}
		j, err := yaml.YAMLToJSON(c)
		if err != nil {
			return nil, fmt.Errorf("document %d: %v", i, err)
		}
		docs = append(docs, j)
	}
	return docs, nil
}

// isSyntax tells a text that is not JSON (so may be YAML) from JSON with a bad value.
func isSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF)
}

func startsJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// jsonValues decodes a sequence of JSON values, keeping number text, and rejects numbers
// that no float64 holds (as encoding/json does without UseNumber).
func jsonValues(in []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var docs [][]byte
	for {
		var v interface{}
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := checkNumbers(v); err != nil {
			return nil, err
		}
		out, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		docs = append(docs, out)
	}
	if len(docs) == 0 {
		return nil, errors.New("no JSON value")
	}
	return docs, nil
}

func checkNumbers(v interface{}) error {
	switch t := v.(type) {
	case json.Number:
		if _, err := t.Float64(); err != nil {
			return err
		}
	case map[string]interface{}:
		for _, e := range t {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	case []interface{}:
		for _, e := range t {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// splitDocuments follows apimachinery's YAMLReader.Read: lines keep their text, end in "\n".
func splitDocuments(in []byte) ([][]byte, error) {
	r := bufio.NewReader(bytes.NewReader(in))
	var docs [][]byte
	var buffer bytes.Buffer
	for {
		line, err := readLine(r)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if bytes.HasPrefix(line, []byte("---")) {
			trimmed := strings.TrimSpace(string(line[3:]))
			if len(trimmed) > 0 && trimmed[0] != '#' {
				return nil, fmt.Errorf("invalid Yaml document separator: %s", trimmed)
			}
			if buffer.Len() != 0 {
				docs = append(docs, append([]byte(nil), buffer.Bytes()...))
				buffer.Reset()
			}
			if err == io.EOF {
				return docs, nil
			}
			continue
		}
		if err == io.EOF {
			if buffer.Len() != 0 {
				docs = append(docs, append([]byte(nil), buffer.Bytes()...))
			}
			return docs, nil
		}
		buffer.Write(line)
	}
}

// readLine is apimachinery's LineReader.Read: one line without its end ("\n" or "\r\n"),
// then "\n". At the end of input it returns the last (possibly empty) line with io.EOF.
func readLine(r *bufio.Reader) ([]byte, error) {
	var buffer bytes.Buffer
	isPrefix := true
	var err error
	var line []byte
	for isPrefix && err == nil {
		line, isPrefix, err = r.ReadLine()
		buffer.Write(line)
	}
	buffer.WriteByte('\n')
	return buffer.Bytes(), err
}
