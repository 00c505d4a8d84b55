package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sharedPcaps = "../../../shared/pcaps"

// tsharkDisagreements lists the frames where the reference decode (tshark
// 4.0 through ../shared/tools/pcap-oracle.py) is wrong and hogs is right,
// keyed by "file:frame", with the reason.
var tsharkDisagreements = map[string]string{
	// IPv6 BIG TCP as Linux captures it: payload length 0 and no jumbo
	// hop-by-hop option. tshark then takes the payload to be empty and
	// prints UDP without ports; the UDP header is there (Geneve/VXLAN ports).
	"bigtcp-ipv6-geneve-ipv6.pcap:1": "payload length 0 (BIG TCP): tshark reads no UDP ports, the header carries 23733 > 6081",
	"bigtcp-ipv6-vxlan-ipv4.pcap:1":  "payload length 0 (BIG TCP): tshark reads no UDP ports, the header carries 52238 > 4789",
	"bigtcp-ipv6-vxlan-ipv6.pcap:1":  "payload length 0 (BIG TCP): tshark reads no UDP ports, the header carries 37059 > 4789",
	// Next header 62 is the number drafts of Mobile IPv6 used; Wireshark's
	// mipv6 dissector claims it, and the oracle maps the dissector name
	// "mipv6" to 135. The header says 62.
	"mobility_opt_asan_4.pcap:1": "next header is 62 (pre-RFC 3775 Mobile IPv6); the oracle maps tshark's mipv6 to 135",
	"mobility_opt_asan_5.pcap:1": "next header is 62 (pre-RFC 3775 Mobile IPv6); the oracle maps tshark's mipv6 to 135",
	"mobility_opt_asan_6.pcap:1": "next header is 62 (pre-RFC 3775 Mobile IPv6); the oracle maps tshark's mipv6 to 135",
	"mobility_opt_asan_6.pcap:2": "next header is 62 (pre-RFC 3775 Mobile IPv6); the oracle maps tshark's mipv6 to 135",
	"mobility_opt_asan_8.pcap:1": "next header is 62 (pre-RFC 3775 Mobile IPv6); the oracle maps tshark's mipv6 to 135",
}

// TestDumpMatchesReferenceDecodes runs `hogs -r FILE --dump` over every
// shared capture and compares each line with the reference decode, field by
// field ("skip" lines and "?" fields excepted).
func TestDumpMatchesReferenceDecodes(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(sharedPcaps, "*.expect"))
	if len(paths) == 0 {
		t.Skipf("reference captures not found in %s: nothing to compare against", sharedPcaps)
	}
	used := map[string]bool{}
	files, frames, compared := 0, 0, 0
	for _, expectPath := range paths {
		capPath := strings.TrimSuffix(expectPath, ".expect")
		name := filepath.Base(capPath)
		want, err := os.ReadFile(expectPath)
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		if status := run([]string{"-r", capPath, "--dump"}, &stdout, &stderr); status != 0 {
			t.Errorf("%s: exit status %d: %s", name, status, stderr.String())
			continue
		}
		files++
		gotLines := splitLines(stdout.String())
		wantLines := splitLines(string(want))
		if len(gotLines) != len(wantLines) {
			t.Errorf("%s: %d frames dumped, reference has %d", name, len(gotLines), len(wantLines))
		}
		for i := 0; i < len(gotLines) && i < len(wantLines); i++ {
			frames++
			key := fmt.Sprintf("%s:%d", name, i+1)
			wantFields := strings.Split(wantLines[i], "\t")
			if len(wantFields) > 1 && wantFields[1] == "skip" {
				continue
			}
			compared++
			if fieldsAgree(strings.Split(gotLines[i], "\t"), wantFields) {
				if _, listed := tsharkDisagreements[key]; listed {
					t.Errorf("%s agrees with the reference now: drop it from tsharkDisagreements", key)
				}
				continue
			}
			if _, listed := tsharkDisagreements[key]; listed {
				used[key] = true
				continue
			}
			t.Errorf("%s\n got %s\nwant %s", key, gotLines[i], wantLines[i])
		}
	}
	for key := range tsharkDisagreements {
		if !used[key] {
			t.Errorf("listed disagreement %s did not occur", key)
		}
	}
	t.Logf("%d files, %d frames, %d compared, %d known tshark disagreements", files, frames, compared, len(used))
}

func fieldsAgree(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if want[i] != "?" && want[i] != got[i] {
			return false
		}
	}
	return true
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
