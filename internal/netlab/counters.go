package netlab

import (
	"encoding/json"
	"fmt"
)

// Counters are a device's kernel counters (ip -s -j link show).
type Counters struct {
	RxPackets, RxBytes, TxPackets, TxBytes uint64
}

// Sub returns c - d.
func (c Counters) Sub(d Counters) Counters {
	return Counters{c.RxPackets - d.RxPackets, c.RxBytes - d.RxBytes, c.TxPackets - d.TxPackets, c.TxBytes - d.TxBytes}
}

// Bytes is the bytes both ways.
func (c Counters) Bytes() uint64 { return c.RxBytes + c.TxBytes }

// Packets is the packets both ways.
func (c Counters) Packets() uint64 { return c.RxPackets + c.TxPackets }

// DeviceCounters reads device dev's counters in namespace ns ("" for this
// process's namespace).
func DeviceCounters(ns, dev string) (Counters, error) {
	out, err := RunIP(ns, "-s", "-j", "link", "show", "dev", dev)
	if err != nil {
		return Counters{}, err
	}
	return ParseCounters([]byte(out))
}

// ParseCounters reads the output of `ip -s -j link show dev DEV`.
func ParseCounters(js []byte) (Counters, error) {
	var links []struct {
		Stats64 *struct {
			Rx, Tx struct{ Bytes, Packets uint64 }
		} `json:"stats64"`
	}
	if err := json.Unmarshal(js, &links); err != nil {
		return Counters{}, fmt.Errorf("ip -s -j link show: %v", err)
	}
	if len(links) != 1 || links[0].Stats64 == nil {
		return Counters{}, fmt.Errorf("ip -s -j link show: no stats64 in %.200s", js)
	}
	s := links[0].Stats64
	return Counters{s.Rx.Packets, s.Rx.Bytes, s.Tx.Packets, s.Tx.Bytes}, nil
}

// LinkMAC is device dev's MAC address in namespace ns.
func LinkMAC(ns, dev string) (string, error) {
	out, err := RunIP(ns, "-j", "link", "show", "dev", dev)
	if err != nil {
		return "", err
	}
	var links []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		return "", fmt.Errorf("reading the MAC of %s: %v: %.200s", dev, err, out)
	}
	return links[0].Address, nil
}
