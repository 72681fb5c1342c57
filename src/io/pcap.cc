// pcap: replay frames from a capture file and record what the bridge sends, with libpcap.
// The replay is as fast as the loop takes it (an eventfd stays readable until the file ends);
// the recording is a DLT_EN10MB file with the frames as sent (tags included).

#include <pcap/pcap.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/fd.hh"
#include "io/backend.hh"

namespace vnet::io {
namespace {

class PcapBackend final : public Backend {
 public:
  PcapBackend(std::string in, std::string out, pcap_t* reader, pcap_t* dead, pcap_dumper_t* dumper)
      : in_(std::move(in)),
        out_(std::move(out)),
        reader_(reader),
        dead_(dead),
        dumper_(dumper),
        event_(eventfd(reader ? 1 : 0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~PcapBackend() override {
    if (reader_) pcap_close(reader_);
    if (dumper_) pcap_dump_close(dumper_);
    if (dead_) pcap_close(dead_);
  }
  std::vector<int> fds() const override { return {event_.get()}; }
  std::string kind() const override { return "pcap"; }
  std::string describe() const override { return "pcap:" + in_ + (out_.empty() ? "" : "," + out_); }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    size_t n = 0;
    while (reader_ && n < max) {
      pcap_pkthdr* h;
      const u_char* data;
      int r = pcap_next_ex(reader_, &h, &data);
      if (r != 1) {
        pcap_close(reader_);
        reader_ = nullptr;
        uint64_t v;
        [[maybe_unused]] auto rr = ::read(event_.get(), &v, sizeof v);
        break;
      }
      out.push_back(packet::Frame::copy_of({data, h->caplen}));
      ++n;
    }
    return n;
  }

  size_t send(std::span<packet::Frame> frames) override {
    if (!dumper_) return frames.size();
    for (auto& f : frames) {
      pcap_pkthdr h{};
      h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
      pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, f.data());
    }
    pcap_dump_flush(dumper_);
    return frames.size();
  }

 private:
  std::string in_, out_;
  pcap_t* reader_;
  pcap_t* dead_;
  pcap_dumper_t* dumper_;
  UniqueFd event_;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_pcap(const std::string& in, const std::string& out) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* reader = nullptr;
  if (!in.empty() && in != "-") {
    reader = pcap_open_offline(in.c_str(), err);
    if (!reader) return make_error(ENOENT, "pcap:{}: {}", in, err);
    if (pcap_datalink(reader) != DLT_EN10MB) {
      pcap_close(reader);
      return make_error(EINVAL, "pcap:{}: link type is not Ethernet (DLT_EN10MB)", in);
    }
  }
  pcap_t* dead = nullptr;
  pcap_dumper_t* dumper = nullptr;
  if (!out.empty()) {
    dead = pcap_open_dead(DLT_EN10MB, 65535);
    dumper = pcap_dump_open(dead, out.c_str());
    if (!dumper) {
      std::string e = pcap_geterr(dead);
      pcap_close(dead);
      if (reader) pcap_close(reader);
      return make_error(EIO, "pcap:{}: {}", out, e);
    }
  }
  return std::unique_ptr<Backend>(std::make_unique<PcapBackend>(in, out, reader, dead, dumper));
}

}  // namespace vnet::io
