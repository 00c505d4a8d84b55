package metrics

import (
	"strconv"
	"strings"
)

// Negotiate picks the format for an Accept header: OpenMetrics when the
// client ranks application/openmetrics-text (version 1.0.0, 0.0.1 or
// unversioned) at least as high as text/plain, the text format
// otherwise (also for a missing or malformed header).
func Negotiate(accept string) Format {
	bestOM, bestText := -1.0, -1.0
	for _, r := range strings.Split(accept, ",") {
		parts := strings.Split(r, ";")
		media := strings.ToLower(strings.TrimSpace(parts[0]))
		q, version := 1.0, ""
		for _, p := range parts[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "q":
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0
				}
			case "version":
				version = strings.TrimSpace(v)
			}
		}
		if q == 0 {
			continue
		}
		switch media {
		case "application/openmetrics-text":
			if version == "" || version == "1.0.0" || version == "0.0.1" {
				bestOM = max(bestOM, q)
			}
		case "text/plain", "text/*", "*/*":
			bestText = max(bestText, q)
		}
	}
	if bestOM > 0 && bestOM >= bestText {
		return FormatOpenMetrics
	}
	return FormatText
}
