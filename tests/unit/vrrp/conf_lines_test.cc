#include "vrrp/conf_lines.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vrrp/keepalived_conf.hh"

using namespace vnet;
using namespace vnet::vrrp;

namespace {

struct Out {
  std::vector<std::string> lines, errors;
  bool stopped = false;
};

// `text` line by line through one ConfLines.
Out run(const std::string& text, std::optional<std::string> id = std::nullopt) {
  Out o;
  ConfLines cl(std::move(id));
  size_t from = 0;
  while (from <= text.size() && !cl.stopped()) {
    size_t nl = text.find('\n', from);
    std::string_view line = std::string_view(text).substr(from, nl - from);
    cl.feed(
        line, [&](std::string l) { o.lines.push_back(std::move(l)); },
        [&](const std::string& m) { o.errors.push_back(m); });
    if (nl == std::string::npos) break;
    from = nl + 1;
  }
  o.stopped = cl.stopped();
  return o;
}

using Lines = std::vector<std::string>;

TEST(ConfLines, CommentsAndBlanksGo) {
  auto o =
      run("  priority 100   ! the rest\n# all\n\nauth_pass \"a#b\" # c\nx \\#1 y\\!\n"
          "auth_pass ab#cd\n");
  EXPECT_EQ(o.lines, (Lines{"priority 100", "auth_pass \"a#b\"", "x #1 y!", "auth_pass ab"}));
  EXPECT_TRUE(o.errors.empty());
}

// keepalived.conf(5) "Conditional configuration": @ID only for ID, @^ID for all but ID.
TEST(ConfLines, ConditionalLinesFollowTheConfigId) {
  const std::string text =
      "@main router_id main_router\n"
      "@backup router_id backup_router\n"
      "@^main 1.2.3.4\n"
      "@^backup 1.2.3.5\n"
      "@main\n"  // nothing after the id: dropped
      "plain\n";
  EXPECT_EQ(run(text, "main").lines, (Lines{"router_id main_router", "1.2.3.5", "plain"}));
  EXPECT_EQ(run(text, "backup").lines, (Lines{"router_id backup_router", "1.2.3.4", "plain"}));
  EXPECT_EQ(run(text, "other").lines, (Lines{"1.2.3.4", "1.2.3.5", "plain"}));
  EXPECT_EQ(run(text).lines, (Lines{"1.2.3.4", "1.2.3.5", "plain"}));
  // The id is the whole word: "@mainly" is not "@main".
  EXPECT_TRUE(run("@mainly x\n", "main").lines.empty());
}

// keepalived.conf(5) "Parameter substitution": at use, recursive, unknown names kept.
TEST(ConfLines, DefinitionsAreSubstitutedAtUse) {
  auto o =
      run("$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n"
          "$ADDRESS_BASE_SUB=0\n"
          "${ADDRESS_BASE}.100/32\n"
          "$ADDRESS_BASE_SUB=10\n"
          "${ADDRESS_BASE}.100/32\n"
          "$P=  150\n"
          "priority $P\n"
          "a $P,$P) ${P}x $Px $UNDEF ${UNDEF} $ $1\n"
          "$EMPTY=\n"
          "[$EMPTY ]\n"
          "$NOT A DEFINITION=1\n");
  EXPECT_EQ(o.lines,
            (Lines{"10.2.0.100/32", "10.2.10.100/32", "priority 150",
                   "a 150,150) 150x $Px $UNDEF ${UNDEF} $ $1", "[ ]", "$NOT A DEFINITION=1"}));
  EXPECT_TRUE(o.errors.empty());
}

TEST(ConfLines, ConditionalDefinitionsAndSubstitutedConditions) {
  const std::string text =
      "@main $PRIORITY=240\n"
      "@backup $PRIORITY=200\n"
      "priority $PRIORITY\n"
      "$IF_MAIN=@main\n"
      "$IF_MAIN nopreempt\n"
      "name ${_INSTANCE}\n";
  EXPECT_EQ(run(text, "main").lines, (Lines{"priority 240", "nopreempt", "name main"}));
  EXPECT_EQ(run(text, "backup").lines, (Lines{"priority 200", "name backup"}));
}

TEST(ConfLines, MultiLineDefinitions) {
  auto o =
      run("$INSTANCE= \\\n"
          "vrrp_instance VI_${NUM} { \\\n"
          "   ! a comment inside does not end it\n"
          "   interface eth0.${NUM} \\\n"
          "   @high priority 130 \\\n"
          "   @low priority 120 \\\n"
          "}\n"
          "$NUM=1\n"
          "$INSTANCE\n"
          "$NUM=2\n"
          "x $INSTANCE\n"
          "$INSTANCE y\n",  // not at the end of the line: kept as written
          "high");
  EXPECT_EQ(o.lines, (Lines{"vrrp_instance VI_1 {", "interface eth0.1", "priority 130", "}",
                            "x vrrp_instance VI_2 {", "interface eth0.2", "priority 130", "}",
                            "$INSTANCE y"}));
  EXPECT_TRUE(o.errors.empty());
  // An empty line ends a definition.
  EXPECT_EQ(run("$M=a \\\nb \\\n\nc\n$M\n").lines, (Lines{"c", "a", "b"}));
}

// keepalived.conf(5) "Sequence blocks".
TEST(ConfLines, Sequences) {
  EXPECT_EQ(run("~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1\n").lines,
            (Lines{"ip_address 10.0.0.1", "ip_address 10.0.1.1", "ip_address 10.0.2.1",
                   "ip_address 10.0.3.1"}));
  EXPECT_EQ(run("~SEQx(S, 0x90, 0x10, 0xc0) fe80::20:${S}:1\n").lines,
            (Lines{"fe80::20:90:1", "fe80::20:a0:1", "fe80::20:b0:1", "fe80::20:c0:1"}));
  EXPECT_EQ(run("~SEQ(i,3) a$i\n").lines, (Lines{"a1", "a2", "a3"}));
  EXPECT_EQ(run("~SEQ(i,-2) a$i\n").lines, (Lines{"a-1", "a-2"}));
  EXPECT_EQ(run("~SEQ(i, 5, 3) a$i\n").lines, (Lines{"a5", "a4", "a3"}));
  EXPECT_EQ(run("~SEQ(i, 10, -5, 0) a$i\n").lines, (Lines{"a10", "a5", "a0"}));
  EXPECT_EQ(run("$N=2\n~SEQ(i, $N) a$i\n").lines, (Lines{"a1", "a2"}));
  // Nested, and with conditional lines inside.
  EXPECT_EQ(run("~SEQ(i, 1, 2) ~SEQ(j, 1, 2) ${i}.${j}\n").lines,
            (Lines{"1.1", "1.2", "2.1", "2.2"}));
  EXPECT_EQ(run("~SEQ(i, 1, 2) @r1 peer $i\n", "r1").lines, (Lines{"peer 1", "peer 2"}));
  EXPECT_TRUE(run("~SEQ(i, 1, 2) @r1 peer $i\n", "r2").lines.empty());
  // A sequence in a definition.
  EXPECT_EQ(run("$S=~SEQ(k, 2) v$k\n$S\n").lines, (Lines{"v1", "v2"}));
}

// keepalived.conf(5) "List blocks".
TEST(ConfLines, Lists) {
  EXPECT_EQ(run("~LST(i, 1, 7, x) a$i\n").lines, (Lines{"a1", "a7", "ax"}));
  EXPECT_EQ(run("~LST({IF, VRID}, {eth0, 10}, {eth1, 20}, {eth2}) ${IF}:${VRID}:\n").lines,
            (Lines{"eth0:10:", "eth1:20:", "eth2::"}));
  EXPECT_EQ(run("~LST(i, 1, 2) ~SEQ(j, 2) ${i}.${j}\n").lines, (Lines{"1.1", "1.2", "2.1", "2.2"}));
  auto bad = [](const std::string& line) {
    auto o = run(line);
    return o.errors.size() == 1 && o.lines.empty() ? o.errors[0] : std::string("no error");
  };
  EXPECT_NE(bad("~LST({a}, {1, 2}) x").find("too many values"), std::string::npos);
  EXPECT_NE(bad("~LST(1a, 1) x").find("'1a' is not a variable name"), std::string::npos);
  EXPECT_NE(bad("~LST(a) x").find("expected ',' and values"), std::string::npos);
  EXPECT_NE(bad("~LST(a, 1 x").find("expected ',' or ')'"), std::string::npos);
  EXPECT_NE(bad("~LST a, 1) x").find("invalid ~LST '~LST a, 1) x'"), std::string::npos);
}

TEST(ConfLines, InvalidSequencesAreErrors) {
  struct Case {
    const char* line;
    const char* says;
  };
  const Case cases[] = {
      {"~SEQ i, 1, 2) x", "expected ~SEQ(VAR"},
      {"~SEQ(, 1, 2) x", "expected a variable name"},
      {"~SEQ(i) x", "expected ',' after the variable"},
      {"~SEQ(i, 1, 2 x", "no ')'"},
      {"~SEQ(i, 1x, 2) x", "'1x': expected a whole number"},
      {"~SEQ(i, , 2) x", "'': expected a whole number"},
      {"~SEQ(i, 1, 2, 3, 4) x", "at most START, STEP and END"},
      {"~SEQ(i, 1, 0, 3) x", "STEP 0 never goes from 1 to 3"},
      {"~SEQ(i, 1, -1, 3) x", "STEP -1 never goes from 1 to 3"},
      {"~SEQ(i, 3, 1, 1) x", "STEP 1 never goes from 3 to 1"},
      {"~SEQx(i, -3, 1) x", "non-negative"},
      {"~SEQ(i, 0, 1000000) x", "more than 1000000 repetitions"},
      {"~SEQ(i, -9223372036854775807, 9223372036854775807) x", "more than 1000000 repetitions"},
  };
  for (auto& c : cases) {
    auto o = run(c.line);
    ASSERT_EQ(o.errors.size(), 1u) << c.line;
    EXPECT_NE(o.errors[0].find(c.says), std::string::npos) << c.line << ": " << o.errors[0];
    EXPECT_NE(o.errors[0].find(c.line), std::string::npos) << o.errors[0];
    EXPECT_TRUE(o.lines.empty()) << c.line;
  }
  auto multi = run("$M=1 \\\n2\n~SEQ(i, $M) x\n");
  ASSERT_EQ(multi.errors.size(), 1u);
  EXPECT_NE(multi.errors[0].find("multi-line"), std::string::npos);
}

// What would hang keepalived or grow without bound is an error naming the limit, and quick.
TEST(ConfLines, SelfReferenceIsBoundedAndNamed) {
  auto same = run("$A=$A\nx $A\nnext\n");
  ASSERT_EQ(same.errors.size(), 1u);
  EXPECT_NE(same.errors[0].find("more than 10000 substitutions"), std::string::npos);
  EXPECT_EQ(same.lines, (Lines{"next"}));  // the line in error is dropped, the rest read

  auto loop = run("$A=${B}\n$B=${A}\n$A\n");
  ASSERT_EQ(loop.errors.size(), 1u);
  EXPECT_NE(loop.errors[0].find("substitutions"), std::string::npos);

  auto grow = run("$A=" + std::string(100, 'x') + "${A}\n$A\n");
  ASSERT_EQ(grow.errors.size(), 1u);
  EXPECT_NE(grow.errors[0].find("longer than 65536 bytes"), std::string::npos);

  auto twice =
      run("$A=${B}${B}\n$B=${C}${C}\n$C=${D}${D}\n$D=0123456789012345678901234567890123456789\n"
          "$E=${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}\n"
          "$F=${E}${E}${E}${E}${E}${E}${E}${E}${E}${E}${E}${E}${E}${E}${E}${E}\n$F\n");
  ASSERT_EQ(twice.errors.size(), 1u);
  EXPECT_NE(twice.errors[0].find("longer than 65536 bytes"), std::string::npos);

  auto multi = run("$M=a \\\n$M\n$M\n");
  ASSERT_EQ(multi.errors.size(), 1u);
  EXPECT_NE(multi.errors[0].find("nested more than 16 deep"), std::string::npos);
  EXPECT_EQ(multi.lines.size(), 17u);  // "a" at each level, then the error

  // Nested sequences multiply: 1000^3 lines are refused at the line limit, not made.
  auto cube = run("~SEQ(i,1000) ~SEQ(j,1000) ~SEQ(k,1000) $i.$j.$k\nafter\n");
  ASSERT_EQ(cube.errors.size(), 1u);
  EXPECT_NE(cube.errors[0].find("more than 1000000 lines"), std::string::npos);
  EXPECT_TRUE(cube.stopped);
  EXPECT_EQ(cube.lines.size(), kMaxExpandedLines);
  EXPECT_NE(cube.lines.back(), "after");
}

TEST(ConfLines, BytesMadeAreBounded) {
  // 1100 lines of 65,000 bytes: 68 MiB, past kMaxExpandedBytes.
  std::string big(65000, 'x');
  auto o = run("$B=" + big + "\n~SEQ(i, 1100) $B\n");
  ASSERT_EQ(o.errors.size(), 1u);
  EXPECT_NE(o.errors[0].find("more than 64 MiB"), std::string::npos);
  EXPECT_TRUE(o.stopped);
}

// Through the reader: the config id picks lines, errors carry file:line.
TEST(ConfLines, TheReaderAppliesThemWithFileAndLine) {
  const std::string text = R"($VIP=10.0.0.100
@r1 $PRIO=150
@^r1 $PRIO=100
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority $PRIO
    virtual_ipaddress {
        ${VIP}/24
~SEQ(n, 1, 2)        10.0.1.${n}/24
    }
    unicast_peer {
        @^r1 10.0.0.1
        @^r2 10.0.0.2
    }
}
)";
  ReadOptions r1{"r1"}, r2{"r2"};
  auto a = parse_keepalived_conf(text, "k.conf", nullptr, r1);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->instances.size(), 1u);
  EXPECT_EQ(a->instances[0].priority, 150);
  ASSERT_EQ(a->instances[0].vips.size(), 3u);
  EXPECT_EQ(a->instances[0].vips[0].prefix.to_string(), "10.0.0.100/24");
  EXPECT_EQ(a->instances[0].vips[2].prefix.to_string(), "10.0.1.2/24");
  EXPECT_EQ(a->instances[0].vips[2].where.line, 10);
  ASSERT_EQ(a->instances[0].unicast_peers.size(), 1u);
  EXPECT_EQ(a->instances[0].unicast_peers[0].to_string(), "10.0.0.2/32");
  auto b = parse_keepalived_conf(text, "k.conf", nullptr, r2);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->instances[0].priority, 100);
  ASSERT_EQ(b->instances[0].unicast_peers.size(), 1u);
  EXPECT_EQ(b->instances[0].unicast_peers[0].to_string(), "10.0.0.1/32");
  EXPECT_TRUE(a->warnings.empty()) << a->warnings[0];
  EXPECT_TRUE(b->warnings.empty()) << b->warnings[0];

  auto bad =
      parse_keepalived_conf("$A=$A\nglobal_defs {\n  router_id $A\n}\n~SEQ(i) x\n", "bad.conf");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.conf:3: more than 10000 substitutions"),
            std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("bad.conf:5: invalid ~SEQ '~SEQ(i) x'"), std::string::npos)
      << bad.error().message;
}

}  // namespace
