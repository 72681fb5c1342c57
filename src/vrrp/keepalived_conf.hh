#pragma once
// keepalived.conf, the subset users rely on (docs/keepalived-compat.md), parsed into a Config
// value — no globals. Lines first go through keepalived's line language (conf_lines.hh: comments,
// `@ID` conditional lines, `$NAME=VALUE` definitions and substitution, `~SEQ` repetition). Lexing
// follows keepalived (lib/parser.c): `!` and `#` start comments, `{ }`
// open and close blocks, "quoted strings" are one word, `include GLOB` (with brace expansion)
// splices files in place, relative to the including file. Unknown keywords give a warning with
// file:line and are skipped (as keepalived does); invalid values are errors with file:line, all
// reported at once: "keepalived.conf:12: 'weight' abc: expected a whole number from -254 to 254".
//
// Hostile or sloppy input cannot crash, hang or exhaust the parser. Every file is read with
// read_regular_file (regular files only — `include /dev/zero` is an error —, at most
// kMaxConfigBytes each); includes nest at most kMaxIncludeDepth deep and pull in at most
// kMaxIncludedFiles files in all; one include pattern may read at most 100,000 directory entries
// and match at most kMaxIncludedFiles files; all files together hold at most 16 MiB and
// 1,000,000 words; blocks nest at most kMaxNesting deep (the statement tree is built without
// recursion). Past a limit the error names it and the rest is not read. At most 100 errors and
// 100 warnings are listed; the rest are counted. Numbers are strict (base/parse.hh): "1x", ""
// or a value out of range is an error, never 0.
//
// Compatibility notes (keepalived 2.2.7): a wildcard include that matches nothing is skipped
// silently and a directory matched by an include is skipped with a warning, as keepalived does;
// a named file that does not exist or is not a regular file is an error (keepalived only logs
// it). Seconds are written as keepalived writes them ("1", "0.25"), without units.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "packet/address.hh"
#include "vrrp/advert.hh"

namespace vnet::vrrp {

struct ConfWhere {
  std::string file;
  int line = 0;
  std::string str() const { return file + ":" + std::to_string(line); }
};

struct VipConfig {
  packet::IpPrefix prefix;  // address with its length (default /32 or /128)
  std::string dev, label, brd;
  ConfWhere where;
};

// A route of virtual_routes (added while the instance is MASTER) or static_routes (added at
// start), as keepalived writes it (vrrp/vrrp_iproute.c alloc_route(), ip-route(8) words):
// [to] [TYPE] DEST [src ADDR] [via|gw ADDR] [dev|oif IF] [table N] [scope S] [metric N] [no_track].
// TYPE: unicast (default), blackhole, unreachable, prohibit, throw. DEST: PREFIX or default.
struct RouteConfig {
  enum class Type : uint8_t {
    kUnicast = 1,
    kBlackhole = 6,
    kUnreachable = 7,
    kProhibit = 8,
    kThrow = 9
  };  // RTN_* (linux/rtnetlink.h)
  packet::IpPrefix to;
  std::optional<packet::IpPrefix> src, via;  // preferred source; gateway (addresses, full length)
  std::string dev;
  Type type = Type::kUnicast;
  uint32_t table = 254;            // RT_TABLE_MAIN
  std::optional<uint32_t> metric;  // RTA_PRIORITY
  uint8_t scope = 0;               // RT_SCOPE_UNIVERSE; link 253, host 254, nowhere 255
  bool v6 = false;
  ConfWhere where;
  std::string str() const;  // as ip-route(8) would show it: "10.9.0.0/16 via 10.0.0.254 dev eth0"
};

// A policy rule of virtual_rules / static_rules (vrrp/vrrp_iprule.c alloc_rule(), ip-rule(8)):
// [from PREFIX|all] [to PREFIX|all] (table|lookup N | blackhole | unreachable | prohibit)
// [priority|preference|order N] [no_track].
struct RuleConfig {
  enum class Action : uint8_t { kTable = 1, kBlackhole = 6, kUnreachable = 7, kProhibit = 8 };
  std::optional<packet::IpPrefix> from, to;  // nullopt: all
  Action action = Action::kTable;
  uint32_t table = 0;
  uint32_t priority = 0;
  bool v6 = false;
  ConfWhere where;
  std::string str() const;  // "from 10.0.0.0/24 lookup 100 priority 100"
};

struct TrackedInterface {
  std::string name;
  int weight = 0;  // 0 = FAULT when down
};

struct TrackedScript {
  std::string name;
  std::optional<int> weight;  // overrides the script's weight
};

struct InstanceConfig {
  std::string name;
  std::string state = "BACKUP";  // initial state as written
  std::string interface;
  int vrid = 0;
  int priority = 100;
  Duration advert_int = std::chrono::seconds(1);
  int version = 0;  // 0 = global vrrp_version (default 2, IPv6 always 3)
  std::vector<VipConfig> vips, vips_excluded;
  AuthType auth_type = AuthType::kNone;
  std::string auth_pass;  // truncated to 8 characters
  ConfWhere auth_where;   // of 'auth_type AH' (refused: keepalived_conf.cc says why)
  bool nopreempt = false;
  Duration preempt_delay{0};
  std::optional<packet::IpPrefix> unicast_src;  // unicast_src_ip or mcast_src_ip (the same)
  std::vector<packet::IpPrefix> unicast_peers;
  std::vector<TrackedInterface> track_interfaces;
  std::vector<TrackedScript> track_scripts;
  std::vector<RouteConfig> routes;  // virtual_routes
  std::vector<RuleConfig> rules;    // virtual_rules
  std::string notify_master, notify_backup, notify_fault, notify_stop, notify;
  std::optional<Duration> garp_master_delay;
  std::optional<int> garp_master_repeat;
  bool use_vmac = false;
  std::string vmac_name;
  bool vmac_xmit_base = false;
  // RFC 5798 Accept_Mode: a master that is not the address owner takes traffic addressed to the
  // VIPs. keepalived's default is accept unless vrrp_strict; `accept` / `no_accept` override.
  std::optional<bool> accept;
  bool accepts() const { return priority == 255 || accept.value_or(true); }
  bool ipv6 = false;  // decided by the first VIP
  ConfWhere where;
  int effective_version(int global) const { return ipv6 ? 3 : (version ? version : global); }
};

struct SyncGroupConfig {
  std::string name;
  std::vector<std::string> instances;
  std::string notify_master, notify_backup, notify_fault, notify;
  ConfWhere where;
};

struct ScriptConfig {
  std::string name, script;
  Duration interval = std::chrono::seconds(1);
  Duration timeout{0};
  int weight = 0;  // 0 = failure means FAULT
  int fall = 1, rise = 1;
  ConfWhere where;
};

struct GlobalDefs {
  std::string router_id;
  int vrrp_version = 2;
  bool vrrp_strict = false;
  bool enable_script_security = false;
  std::string script_user;
  bool skip_check_adv_addr = false;
  Duration garp_master_delay = std::chrono::seconds(5);
  int garp_master_repeat = 5;
};

struct KeepalivedConfig {
  GlobalDefs global;
  std::vector<InstanceConfig> instances;
  std::vector<SyncGroupConfig> sync_groups;
  std::vector<ScriptConfig> scripts;
  // static_ipaddress, static_routes, static_rules: added at start, removed at stop.
  std::vector<VipConfig> static_addresses;
  std::vector<RouteConfig> static_routes;
  std::vector<RuleConfig> static_rules;
  std::vector<std::string> warnings;  // "file:line: message"
  std::vector<std::string> files;     // every file read, includes too
};

// A statement as read (KEYWORD ARGS… [{ BLOCK }]), handed to readers of the blocks the VRRP half
// does not own (virtual_server, virtual_server_group: src/lb/keepalived_conf.hh).
struct ConfStmt {
  std::string keyword;
  std::vector<std::string> args;
  std::vector<ConfStmt> block;
  bool has_block = false;
  ConfWhere where;
};

// Where a block reader reports: its messages join the parse's errors (which refuse the
// configuration) and warnings, as "file:line: message".
class ConfReport {
 public:
  virtual ~ConfReport() = default;
  virtual void error(const ConfWhere& where, const std::string& message) = 0;
  virtual void warn(const ConfWhere& where, const std::string& message) = 0;
};

// Reads the top-level blocks named in `keywords` in place of the VRRP reader's "is for the load
// balancer: ignored" warning: read() once per block in file order, then finish() once (for
// checks across blocks).
struct BlockReader {
  std::vector<std::string> keywords;
  std::function<void(const ConfStmt&, ConfReport&)> read;
  std::function<void(ConfReport&)> finish;
};

// How to read: keepalived's command line options that change what a file means.
struct ReadOptions {
  // `-i ID` / `--config-id ID`: which `@ID` lines apply (conf_lines.hh). nullopt: none given
  // (`@ID` lines are dropped, `@^ID` kept); the CLI passes keepalived's default, the host name
  // up to its first '.'.
  std::optional<std::string> config_id;
};

// Reads `path` and what it includes. Error (EINVAL, or the file's errno when `path` itself cannot
// be read): every problem found, one per line, each "file:line: what was found: what was expected".
// `extra`, if given, reads the blocks it names.
Result<KeepalivedConfig> load_keepalived_conf(const std::string& path,
                                              const BlockReader* extra = nullptr,
                                              const ReadOptions& options = {});
// The same for text in memory; `file` names it in messages and anchors relative includes.
Result<KeepalivedConfig> parse_keepalived_conf(const std::string& text, const std::string& file,
                                               const BlockReader* extra = nullptr,
                                               const ReadOptions& options = {});

}  // namespace vnet::vrrp
