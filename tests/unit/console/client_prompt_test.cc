// console::Client (vnet ctl) reads answers that end in vde_switch's prompt or in VDE wirefilter's
// ("\nVDEwf$ "), from a peer that speaks exactly what each daemon writes.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "console/console.hh"

using namespace vnet;

namespace {

// A one-session console that sends `banner + prompt`, then answers one command with
// `answer + prompt`.
void fake_console(int listener, std::string banner, std::string answer, std::string prompt) {
  int c = ::accept(listener, nullptr, nullptr);
  if (c < 0) return;
  const std::string hello = banner + prompt;
  ::send(c, hello.data(), hello.size(), MSG_NOSIGNAL);
  char buf[256];
  ::recv(c, buf, sizeof buf, 0);
  const std::string reply = answer + prompt;
  ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
  ::recv(c, buf, sizeof buf, 0);  // until the client closes
  ::close(c);
}

std::string run_against(const std::string& prompt, const std::string& answer) {
  const std::string path =
      ::testing::TempDir() + "/client_prompt_" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  int l = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  EXPECT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  EXPECT_EQ(::listen(l, 1), 0);
  std::thread server(fake_console, l, "\nVDE wirefilter V.2.3.3\n(C) R.Davoli 2005,2006 - GPLv2\n",
                     answer, prompt);
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  {
    auto c = console::Client::connect(path);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    if (c.ok()) {
      auto r = c->run("showinfo");
      EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
      if (r.ok()) out = *r;
    }
  }
  server.join();
  ::close(l);
  ::unlink(path.c_str());
  // Not a speed test: the old client waited its 30 s timeout for a prompt it did not know.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  return out;
}

}  // namespace

TEST(ConsoleClient, ReadsWirefilterPrompt) {
  EXPECT_EQ(run_against(console::kWirefilterPrompt,
                        "0000 DATA END WITH '.'\nWireFilter: bidirectional\n.\n1000 Success\n"),
            "WireFilter: bidirectional\n");
}

TEST(ConsoleClient, ReadsVdeSwitchPrompt) {
  EXPECT_EQ(run_against(console::kPrompt, "0000 DATA END WITH '.'\nx\n.\n1000 Success\n"), "x\n");
}
