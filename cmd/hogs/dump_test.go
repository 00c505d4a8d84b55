package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hogs/internal/sharedpcaps"
)

// tsharkDisagreements lists the frames where the reference decode (tshark
// 4.0 through ../shared/tools/pcap-oracle.py) is wrong and hogs is right,
// keyed by "file:frame": why, and the line hogs dumps for the frame.
var tsharkDisagreements = map[string]struct{ why, hogs string }{
	// IPv6 BIG TCP as Linux captures it: payload length 0 and no jumbo
	// hop-by-hop option. tshark then takes the payload to be empty and
	// prints UDP without ports; the UDP header is there (Geneve/VXLAN ports).
	"bigtcp-ipv6-geneve-ipv6.pcap:1": {"payload length 0 (BIG TCP): tshark reads no UDP ports",
		"1\tip6\t17\t2604:1380:4091:ce00::d\t23733\t2604:1380:4091:ce00::b\t6081\t40"},
	"bigtcp-ipv6-vxlan-ipv4.pcap:1": {"payload length 0 (BIG TCP): tshark reads no UDP ports",
		"1\tip6\t17\t2604:1380:4091:ce00::d\t52238\t2604:1380:4091:ce00::b\t4789\t40"},
	"bigtcp-ipv6-vxlan-ipv6.pcap:1": {"payload length 0 (BIG TCP): tshark reads no UDP ports",
		"1\tip6\t17\t2604:1380:4091:ce00::d\t37059\t2604:1380:4091:ce00::b\t4789\t40"},
	// Next header 62 is the number drafts of Mobile IPv6 used; Wireshark's
	// mipv6 dissector claims it, and the oracle maps the dissector name
	// "mipv6" to 135. The header says 62.
	"mobility_opt_asan_4.pcap:1": {"next header 62 (pre-RFC 3775 Mobile IPv6); the oracle says 135",
		"1\tip6\t62\td3c3:b2a9:200:400::6238:2949\t-\t9675:86dd:7300:2c:1c7f:ffff:ffc3:b2a1\t-\t7208"},
	"mobility_opt_asan_5.pcap:1": {"next header 62 (pre-RFC 3775 Mobile IPv6); the oracle says 135",
		"1\tip6\t62\tff:7f0f:40:0:ee00:0:b658:5203\t-\t205:20:1:b00:0:2200:af01:e000\t-\t7208"},
	"mobility_opt_asan_6.pcap:1": {"next header 62 (pre-RFC 3775 Mobile IPv6); the oracle says 135",
		"1\tip6\t62\td400:7fa1:0:400::6238:2949\t-\t9675:86dd:7300:2c:1c7f:ffff:ffc3:b2a1\t-\t7208"},
	"mobility_opt_asan_6.pcap:2": {"next header 62 (pre-RFC 3775 Mobile IPv6); the oracle says 135",
		"2\tip6\t62\td4c3:b2a1:200:400::6238:2949\t-\t9675:86dd:73f0:2c:1c7f:ffff:ebc3:b291\t-\t7208"},
	"mobility_opt_asan_8.pcap:1": {"next header 62 (pre-RFC 3775 Mobile IPv6); the oracle says 135",
		"1\tip6\t62\td3c3:b2a9:200:400::6238:2949\t-\t9675:86dd:7300:2c:1c7f:ffff:ffc3:b2a1\t-\t7208"},
}

// TestDumpMatchesReferenceDecodes runs `hogs -r FILE --dump` over every
// shared capture and compares each line with the reference decode, field by
// field ("skip" lines and "?" fields excepted). A frame listed in
// tsharkDisagreements must dump exactly the line listed there, and that
// line must disagree with the reference.
func TestDumpMatchesReferenceDecodes(t *testing.T) {
	seen := map[string]bool{}
	files, frames, compared := 0, 0, 0
	for _, capPath := range sharedpcaps.Captures(t) {
		name := filepath.Base(capPath)
		want, err := os.ReadFile(capPath + ".expect")
		if err != nil {
			t.Errorf("%s: no reference decode: %v", name, err)
			continue
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
			agrees := fieldsAgree(strings.Split(gotLines[i], "\t"), wantFields)
			if known, listed := tsharkDisagreements[key]; listed {
				seen[key] = true
				switch {
				case gotLines[i] != known.hogs:
					t.Errorf("%s (a known tshark disagreement: %s)\n got %s\nwant %s", key, known.why, gotLines[i], known.hogs)
				case agrees:
					t.Errorf("%s agrees with the reference now: drop it from tsharkDisagreements", key)
				}
				continue
			}
			if len(wantFields) > 1 && wantFields[1] == "skip" {
				continue
			}
			compared++
			if !agrees {
				t.Errorf("%s\n got %s\nwant %s", key, gotLines[i], wantLines[i])
			}
		}
	}
	for key := range tsharkDisagreements {
		if !seen[key] {
			t.Errorf("listed disagreement %s: no such frame in the captures", key)
		}
	}
	t.Logf("%d files, %d frames, %d compared, %d known tshark disagreements", files, frames, compared, len(seen))
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
