// The afpacket spec's options (io/backend.hh): mistakes are refused before any socket exists,
// and a namespace that cannot be entered is named.
#include <gtest/gtest.h>

#include "io/backend.hh"

using namespace vnet::io;

namespace {

std::string error_of(const std::string& spec) {
  auto b = make_backend(spec);
  return b ? std::string() : b.error().message;
}

TEST(AfPacketSpec, UnknownOptionsAreRefused) {
  for (const char* spec : {"afpacket:eth0,rings", "afpacket:eth0,netns=relative/path",
                           "afpacket:eth0,netns=", "afpacket:eth0,ring,x"}) {
    auto e = error_of(spec);
    EXPECT_NE(e.find("unknown option"), std::string::npos) << spec << ": " << e;
    EXPECT_NE(e.find("expected 'ring' or 'netns=/PATH'"), std::string::npos) << spec << ": " << e;
  }
}

TEST(AfPacketSpec, ANamespaceThatCannotBeOpenedIsNamed) {
  auto e = error_of("afpacket:eth0,netns=/nonexistent/ns/net");
  EXPECT_NE(e.find("open network namespace /nonexistent/ns/net"), std::string::npos) << e;
}

}  // namespace
