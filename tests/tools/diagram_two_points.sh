# Sourced by diagram_golden.sh and diagram_chromium.sh. diagram_two_points CAPTURE: from the
# capture of `synack demo --loss 0.3 --seed 7` (the simulated link records every segment sent;
# that run loses frames 2, 7, 8 and 10; the latency is 10 ms) makes what two capture points
# would have seen: near_a.pcap holds what A sent and, 10 ms later, what reached it; near_b.pcap
# (pcapng) the same for B. Needs tshark, editcap and mergecap; writes in the current folder.
diagram_two_points() {
  local src=$1 a=192.0.2.1 lost='frame.number in {2,7,8,10}'
  tshark -r "$src" -Y "ip.src==$a" -w a_sent.pcap
  tshark -r "$src" -Y "ip.dst==$a && !($lost)" -w a_got.pcap
  tshark -r "$src" -Y "ip.dst==$a" -w b_sent.pcap
  tshark -r "$src" -Y "ip.src==$a && !($lost)" -w b_got.pcap
  editcap -t 0.010 a_got.pcap a_got_late.pcap
  editcap -t 0.010 b_got.pcap b_got_late.pcap
  mergecap -F pcap -w near_a.pcap a_sent.pcap a_got_late.pcap
  mergecap -F pcapng -w near_b.pcap b_sent.pcap b_got_late.pcap
}
