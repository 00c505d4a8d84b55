// Package bench measures hogs against its peers, in the same run on the same
// input: decode throughput against gopacket's DecodingLayerParser over the
// reference capture corpus and over single hot-path frames. It holds only
// benchmarks and the fixtures they share; `make bench` runs them and prints
// the benchstat comparison.
package bench
