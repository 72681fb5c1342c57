// enable_script_security and script_user (vrrp/scripts.hh) on real files in a private directory.
#include "vrrp/scripts.hh"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace vnet::vrrp;
namespace fs = std::filesystem;

namespace {

struct TempScript {
  fs::path dir, file;
  TempScript() {
    char tmpl[] = "/tmp/vnet-scripts.XXXXXX";
    dir = mkdtemp(tmpl);  // 0700, ours
    file = dir / "notify.sh";
    std::ofstream(file) << "#!/bin/sh\nexit 0\n";
    chmod(file.c_str(), 0755);
  }
  ~TempScript() { fs::remove_all(dir); }
};

TEST(Scripts, WithoutScriptSecurityEverythingRuns) {
  TempScript t;
  chmod(t.file.c_str(), 0777);
  auto r = ScriptRunner::make(GlobalDefs{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->insecure(t.file.string() + " MASTER").has_value());
}

TEST(Scripts, ScriptSecurityRefusesFilesOthersCanChange) {
  if (geteuid() != 0) GTEST_SKIP() << "ownership checks assume root owns the test files";
  TempScript t;
  GlobalDefs g;
  g.enable_script_security = true;
  g.script_user = "root";
  auto r = ScriptRunner::make(g);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->insecure(t.file.string() + " arg").has_value());
  EXPECT_FALSE(r->insecure("true").has_value());  // found in PATH, root's

  chmod(t.file.c_str(), 0757);
  auto why = r->insecure(t.file.string());
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("writable by everyone"), std::string::npos) << *why;

  chmod(t.file.c_str(), 0755);
  chmod(t.dir.c_str(), 0777);  // a directory anyone may replace the file in
  why = r->insecure(t.file.string());
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find(t.dir.string()), std::string::npos) << *why;
  chmod(t.dir.c_str(), 01777);  // sticky, like /tmp: only the owner may replace it
  EXPECT_FALSE(r->insecure(t.file.string()).has_value());

  chmod(t.dir.c_str(), 0700);
  ASSERT_EQ(chown(t.file.c_str(), 65534, 65534), 0);
  why = r->insecure(t.file.string());
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("owned by uid 65534"), std::string::npos) << *why;

  EXPECT_TRUE(r->insecure("no-such-command-anywhere").has_value());
}

TEST(Scripts, UnknownScriptUserIsAnError) {
  GlobalDefs g;
  g.script_user = "no-such-user-here";
  auto r = ScriptRunner::make(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("script_user no-such-user-here: no such user"),
            std::string::npos);
}

}  // namespace
