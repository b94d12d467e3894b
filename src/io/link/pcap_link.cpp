#include "synack/io/link/pcap_link.hpp"

namespace synack::io {

pcap_link::pcap_link(link& inner, std::unique_ptr<pcap_writer> writer)
    : link_decorator(inner), writer_(std::move(writer)) {}

pcap_link::~pcap_link() { writer_->flush(); }

bool pcap_link::send(instant now, bytes packet) {
  writer_->write(now, packet);
  return inner().send(now, packet);
}

std::size_t pcap_link::receive(instant now, std::size_t max, const packet_sink& sink) {
  return inner().receive(now, max, [&](bytes p) {
    writer_->write(now, p);
    sink(p);
  });
}

void pcap_link::flush() { writer_->flush(); }

}  // namespace synack::io
