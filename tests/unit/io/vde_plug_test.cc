// The VDE plug client (io/vde_plug.hh): the request it sends, byte by byte, to a fake switch;
// a full handshake and frames both ways with vnet's own VdeServer in-process; and its errors.
#include "io/vde_plug.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "base/event_loop.hh"
#include "io/backend.hh"
#include "io/listener.hh"

using namespace vnet;
using namespace std::chrono_literals;

namespace {

std::string temp_dir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/vde_plug_" + std::to_string(::getpid()) + "_" + name;
  ::mkdir(d.c_str(), 0700);
  return d;
}

UniqueFd listen_at(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  ::unlink(path.c_str());
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  EXPECT_EQ(::listen(fd.get(), 4), 0);
  return fd;
}

}  // namespace

// A fake switch checks the request_v3 layout, answers with its data socket, and exchanges a
// datagram with the plug.
TEST(VdePlug, RequestLayoutAndDataPath) {
  const std::string dir = temp_dir("fake");
  UniqueFd ctl = listen_at(dir + "/ctl");
  const std::string switch_data = dir + "/001.7";
  std::string request;
  UniqueFd sw_data;
  std::thread fake([&] {
    UniqueFd c(::accept(ctl.get(), nullptr, nullptr));
    char buf[512];
    ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
    if (n > 0) request.assign(buf, static_cast<size_t>(n));
    sockaddr_un client{};
    if (n >= static_cast<ssize_t>(12 + sizeof client))
      std::memcpy(&client, buf + 12, sizeof client);
    sw_data = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un ours{};
    ours.sun_family = AF_UNIX;
    std::snprintf(ours.sun_path, sizeof ours.sun_path, "%s", switch_data.c_str());
    ::unlink(ours.sun_path);
    ::bind(sw_data.get(), reinterpret_cast<sockaddr*>(&ours), sizeof ours);
    ::connect(sw_data.get(), reinterpret_cast<sockaddr*>(&client), sizeof client);
    ::send(c.get(), &ours, sizeof ours, 0);
    char hold;
    ::recv(c.get(), &hold, 1, 0);  // until the plug closes ctl
  });
  auto plug = io::vde_plug_connect("vde://" + dir, "wirefilter test");
  ASSERT_TRUE(plug.ok()) << plug.error().message;
  EXPECT_EQ(plug->switch_data_path, switch_data);
  EXPECT_EQ(plug->switch_dir, dir);

  const std::string frame(60, 'x');
  ASSERT_EQ(::send(plug->data.get(), frame.data(), frame.size(), 0), 60);
  char got[100];
  ASSERT_EQ(::recv(sw_data.get(), got, sizeof got, 0), 60);
  ASSERT_EQ(::send(sw_data.get(), "yyyyyyyyyyyyyy", 14, 0), 14);
  pollfd p{plug->data.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_EQ(::recv(plug->data.get(), got, sizeof got, 0), 14);
  plug->ctl.reset();
  fake.join();

  ASSERT_EQ(request.size(), 12 + sizeof(sockaddr_un) + std::strlen("wirefilter test"));
  uint32_t magic, version, type;
  std::memcpy(&magic, request.data(), 4);
  std::memcpy(&version, request.data() + 4, 4);
  std::memcpy(&type, request.data() + 8, 4);
  EXPECT_EQ(magic, 0xfeedfaceu);
  EXPECT_EQ(version, 3u);
  EXPECT_EQ(type, 1u);  // REQ_NEW_PORT0: any free port
  sockaddr_un client{};
  std::memcpy(&client, request.data() + 12, sizeof client);
  EXPECT_EQ(client.sun_family, AF_UNIX);
  EXPECT_EQ(std::string(client.sun_path).rfind(dir + "/.", 0), 0u) << client.sun_path;
  EXPECT_NE(::access(client.sun_path, F_OK), 0) << "the plug's bound path was not unlinked";
  EXPECT_EQ(request.substr(12 + sizeof client), "wirefilter test");
}

// The plug and vnet's own switch side agree: the server attaches the endpoint on the port the
// plug asks for, and frames cross both ways.
TEST(VdePlug, HandshakeWithVnetServer) {
  const std::string dir = temp_dir("vnet");
  SystemClock clock;
  EventLoop loop(clock);
  std::unique_ptr<io::Backend> endpoint;
  uint32_t asked = 0;
  auto server = io::VdeServer::open(loop, dir, [&](uint32_t port, std::unique_ptr<io::Backend> b) {
    asked = port;
    endpoint = std::move(b);
    return Result<uint32_t>(port == 0 ? 1u : port);
  });
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::atomic<bool> done{false};
  Result<io::VdePlug> plug = make_error(EINVAL, "not run");
  std::thread client([&] {
    plug = io::vde_plug_connect(dir, "unit", 7);
    done = true;
  });
  for (int i = 0; i < 5000 && !done; ++i) loop.run_once(1ms);
  client.join();
  ASSERT_TRUE(plug.ok()) << plug.error().message;
  EXPECT_EQ(asked, 7u);
  ASSERT_NE(endpoint, nullptr);
  EXPECT_EQ(plug->switch_data_path, dir + "/007." + std::to_string(endpoint->fds()[0]));

  const std::string frame(64, 'a');
  ASSERT_EQ(::send(plug->data.get(), frame.data(), frame.size(), 0), 64);
  std::vector<packet::Frame> in;
  for (int i = 0; i < 100 && in.empty(); ++i) {
    loop.run_once(1ms);
    endpoint->receive(in, 8);
  }
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].size(), 64u);
  ASSERT_EQ(endpoint->send(std::span<packet::Frame>(in)), 1u);
  char got[100];
  pollfd p{plug->data.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_EQ(::recv(plug->data.get(), got, sizeof got, 0), 64);
  // Closing ctl unplugs: the switch side sees EOF.
  plug->ctl.reset();
  for (int i = 0; i < 100 && !endpoint->closed(); ++i) {
    loop.run_once(1ms);
    endpoint->receive(in, 8);
  }
  EXPECT_TRUE(endpoint->closed());
}

TEST(VdePlug, Errors) {
  const std::string dir = temp_dir("errors");
  auto none = io::vde_plug_connect(dir + "/missing", "x");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, "vde plug " + dir + "/missing: connect " + dir +
                                      "/missing/ctl: No such file or directory");

  // A switch that closes without answering (a refusal).
  UniqueFd ctl = listen_at(dir + "/ctl");
  std::thread refuse([&] {
    UniqueFd c(::accept(ctl.get(), nullptr, nullptr));
    char buf[512];
    ::recv(c.get(), buf, sizeof buf, 0);
  });
  auto refused = io::vde_plug_connect(dir, "x");
  refuse.join();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ECONNREFUSED);
  EXPECT_NE(refused.error().message.find("closed the connection after 0 of 110 answer bytes"),
            std::string::npos)
      << refused.error().message;

  // A switch that never answers: the timeout bounds the wait.
  UniqueFd held;
  std::thread silent([&] { held = UniqueFd(::accept(ctl.get(), nullptr, nullptr)); });
  auto timed_out = io::vde_plug_connect(dir, "x", 0, 50ms);
  silent.join();
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, ETIMEDOUT);
  EXPECT_NE(timed_out.error().message.find("waiting for the switch's answer"), std::string::npos);
}
